import { channelCompliance } from '../../agent/testing/compliance.ts';
import { testContext } from '../../agent/testing/context.ts';
import memory from './memory.ts';

channelCompliance('memory', async (o) => memory.create({ ...o, byteCapacity: 0 }, testContext('channel', 'memory')) as never);
