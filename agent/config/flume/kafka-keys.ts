/**
 * Flume's pass-through Kafka client keys (`kafka.consumer.*` of the Kafka source, `kafka.producer.*` of the Kafka
 * sink) are Java client properties. The ones with a kafkajs equivalent are mapped, security (SSL, SASL PLAIN and
 * SCRAM from `sasl.jaas.config`) included; the rest are errors, since passing a Java property to kafkajs does nothing.
 */
import { child, leaf, type YMap } from './yaml-out.ts';
import { convert, pos, type Ctx, type PrefixRule, type Prop } from './rules.ts';

type Role = 'consumer' | 'producer';

const COMMON: Record<string, string> = { 'client.id': 'clientId', 'request.timeout.ms': 'requestTimeoutMs' };
/** Java consumer property → key of the kafka source's `consumer` (kafkajs) options. */
const CONSUMER: Record<string, string> = {
  'session.timeout.ms': 'sessionTimeout',
  'heartbeat.interval.ms': 'heartbeatInterval',
  'rebalance.timeout.ms': 'rebalanceTimeout',
  'max.partition.fetch.bytes': 'maxBytesPerPartition',
  'fetch.min.bytes': 'minBytes',
  'fetch.max.bytes': 'maxBytes',
};
const PRODUCER: Record<string, string> = { 'max.in.flight.requests.per.connection': 'maxInFlightRequests', 'transaction.timeout.ms': 'transactionTimeout' };
const IGNORED: Record<Role, Record<string, string>> = {
  consumer: {
    'enable.auto.commit': 'Flume forces it to false too: offsets are committed after the channel commit.',
    'auto.commit.interval.ms': 'offsets are committed after each channel commit, never on a timer.',
    'key.deserializer': 'keys are read as text and values as bytes, as Flume does.',
    'value.deserializer': 'keys are read as text and values as bytes, as Flume does.',
  },
  producer: {
    'linger.ms': 'each channel batch is sent at once and flushed, as Flume does.',
    'batch.size': 'each channel batch is sent as one request.',
    retries: 'a failed batch is rolled back and retried by the sink runner.',
    'key.serializer': 'record values are the event bodies as bytes, as Flume writes them.',
    'value.serializer': 'record values are the event bodies as bytes, as Flume writes them.',
  },
};
const MECHANISMS: Record<string, string> = { PLAIN: 'plain', 'SCRAM-SHA-256': 'scram-sha-256', 'SCRAM-SHA-512': 'scram-sha-512' };
const PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

interface Security {
  protocol?: Prop;
  mechanism?: Prop;
  jaas?: Prop;
  truststore?: Prop;
  truststoreType?: Prop;
}

export function kafkaClientRule(role: Role): PrefixRule {
  const prefix = `kafka.${role}.`;
  return {
    prefix,
    handle(key, p, out, ctx, state) {
      const sec = ((state.security as Security | undefined) ??= {});
      const num = () => leaf(convert(p, 'int'), pos(p));
      if (COMMON[key]) out.entries.set(COMMON[key], COMMON[key] === 'clientId' ? leaf(p.yaml, pos(p)) : num());
      else if (role === 'consumer' && key === 'group.id') out.entries.set('groupId', leaf(p.yaml, pos(p)));
      else if (role === 'consumer' && key === 'auto.offset.reset') {
        if (p.value === 'none') ctx.error(p, `${prefix}auto.offset.reset none is not supported: a new consumer group starts from earliest or latest.`);
        else out.entries.set('startFrom', leaf(convert(p, 'lower'), pos(p)));
      } else if (role === 'consumer' && CONSUMER[key]) child(out, 'consumer', pos(p)).entries.set(CONSUMER[key], num());
      else if (role === 'producer' && PRODUCER[key]) child(out, 'producer', pos(p)).entries.set(PRODUCER[key], num());
      else if (role === 'producer' && key === 'acks') setAcks(p, out);
      else if (role === 'producer' && key === 'compression.type') out.entries.set('compression', leaf(convert(p, 'lower'), pos(p)));
      else if (role === 'producer' && key === 'max.request.size') out.entries.set('maxMessageBytes', num());
      else if (role === 'producer' && key === 'enable.idempotence') out.entries.set('idempotent', leaf(convert(p, 'bool'), pos(p)));
      else if (IGNORED[role][key]) ctx.warn(p, `${p.name} has no effect here and is ignored: ${IGNORED[role][key]}`);
      else if (key === 'security.protocol') sec.protocol = p;
      else if (key === 'sasl.mechanism') sec.mechanism = p;
      else if (key === 'sasl.jaas.config') sec.jaas = p;
      else if (key === 'ssl.truststore.location') sec.truststore = p;
      else if (key === 'ssl.truststore.type') sec.truststoreType = p;
      else {
        const known = [...Object.keys(COMMON), ...Object.keys(role === 'consumer' ? CONSUMER : PRODUCER), ...(role === 'consumer' ? ['group.id', 'auto.offset.reset'] : ['acks', 'compression.type', 'max.request.size', 'enable.idempotence'])];
        ctx.error(p, `${p.name} is not supported: this Kafka client is not the Java one, so only these ${prefix}* keys are understood: ${[...known, 'security.protocol', 'sasl.mechanism', 'sasl.jaas.config', 'ssl.truststore.location', 'ssl.truststore.type (PEM)'].join(', ')}. For other kafkajs options, convert the file (fintrans-agent convert) and set them in the ${role} object.`);
      }
      return true;
    },
  };
}

/** acks: all and -1 keep the idempotent producer; 1 and 0 need it off. */
export function setAcks(p: Prop, out: YMap): void {
  const v = p.value.trim().toLowerCase();
  if (v === 'all' || v === '-1') out.entries.set('acks', leaf('all', pos(p)));
  else if (v === '1' || v === '0') {
    out.entries.set('acks', leaf(Number(v), pos(p)));
    out.entries.set('idempotent', leaf(false, pos(p), 'the idempotent producer needs acks all'));
  } else out.entries.set('acks', leaf(p.yaml, pos(p)));
}

/** Turns the collected security keys into the ssl and sasl keys. */
export function finishSecurity(out: YMap, ctx: Ctx, state: Record<string, unknown>): void {
  const sec = state.security as Security | undefined;
  if (!sec) return;
  const protocol = (sec.protocol?.value ?? 'PLAINTEXT').toUpperCase();
  if (sec.protocol && !PROTOCOLS.includes(protocol)) return ctx.error(sec.protocol, `security.protocol "${sec.protocol.value}" is not one of ${PROTOCOLS.join(', ')}.`);
  const ssl = protocol.endsWith('SSL');
  const sasl = protocol.startsWith('SASL');
  if (sec.truststore) {
    if (!ssl) ctx.warn(sec.truststore, `${sec.truststore.name} has no effect and is ignored: security.protocol is ${protocol}, without TLS.`);
    else if ((sec.truststoreType?.value ?? 'JKS').toUpperCase() !== 'PEM') ctx.error(sec.truststoreType ?? sec.truststore, 'only PEM trust stores can be read here (set ssl.truststore.type = PEM and point ssl.truststore.location at the PEM CA file; convert a JKS store with keytool -exportcert -rfc).');
    else child(out, 'ssl', pos(sec.truststore)).entries.set('caFile', leaf(sec.truststore.yaml, pos(sec.truststore)));
  }
  if (sec.truststoreType && !sec.truststore) ctx.warn(sec.truststoreType, `${sec.truststoreType.name} has no effect and is ignored without ssl.truststore.location.`);
  if (ssl && !out.entries.has('ssl')) out.entries.set('ssl', leaf(true, pos(sec.protocol!), 'TLS with the system CAs'));
  if (!sasl) {
    for (const p of [sec.mechanism, sec.jaas]) if (p) ctx.warn(p, `${p.name} has no effect and is ignored: security.protocol is ${protocol}, without SASL.`);
    return;
  }
  const mechanism = MECHANISMS[(sec.mechanism?.value ?? 'PLAIN').toUpperCase()];
  if (!mechanism) return ctx.error(sec.mechanism!, `SASL mechanism "${sec.mechanism!.value}" is not supported: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (GSSAPI/Kerberos and OAUTHBEARER are not available).`);
  const jaas = sec.jaas;
  const user = jaas && /\busername\s*=\s*"([^"]*)"/.exec(jaas.yaml)?.[1];
  const password = jaas && /\bpassword\s*=\s*"([^"]*)"/.exec(jaas.yaml)?.[1];
  if (!jaas || user === undefined) return ctx.error(jaas ?? sec.protocol!, `security.protocol ${protocol} needs ${jaas ? 'a username="..." in' : ''} sasl.jaas.config, e.g. org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="\${env:KAFKA_PASSWORD}";`);
  const m = child(out, 'sasl', pos(jaas));
  m.entries.set('mechanism', leaf(mechanism, pos(sec.mechanism ?? jaas)));
  m.entries.set('username', leaf(user, pos(jaas)));
  if (password !== undefined) m.entries.set('password', leaf(password, pos(jaas)));
}
