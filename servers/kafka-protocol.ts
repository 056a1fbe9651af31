/**
 * Just enough of the Kafka wire protocol for a dependency-free readiness probe: ApiVersions (the broker parses
 * requests), Metadata (the broker is registered and a controller is elected) and FindCoordinator (the group
 * coordinator is available, which makes the broker create `__consumer_offsets` before the first test needs it;
 * otherwise a consumer's first join logs "The group coordinator is not available" and retries).
 */
import { Socket, connect } from 'node:net';

const API_METADATA = 3;
const API_FIND_COORDINATOR = 10;
const API_VERSIONS = 18;

function str(s: string): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(s));
  b.writeInt16BE(Buffer.byteLength(s), 0);
  b.write(s, 2);
  return b;
}

/** Reads big-endian fields sequentially from a response body. */
class Reader {
  private pos = 0;
  private readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  int16(): number {
    return this.buf.readInt16BE((this.pos += 2) - 2);
  }
  int32(): number {
    return this.buf.readInt32BE((this.pos += 4) - 4);
  }
  string(): string | null {
    const len = this.int16();
    if (len < 0) return null;
    return this.buf.toString('utf8', this.pos, (this.pos += len));
  }
}

export interface BrokerInfo {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

/** One connection, sequential requests (header v1, i.e. non-flexible request versions only). */
export class KafkaWire {
  private readonly socket: Socket;
  private buffered = Buffer.alloc(0);
  private waiting: ((frame: Buffer) => void) | undefined;
  private correlation = 0;
  private readonly failed: Promise<never>;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.failed = new Promise((_, reject) => {
      socket.on('error', reject);
      socket.on('close', () => reject(new Error('connection closed by the broker')));
    });
    this.failed.catch(() => {});
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      if (this.buffered.length < 4) return;
      const size = this.buffered.readInt32BE(0);
      if (this.buffered.length < 4 + size || !this.waiting) return;
      const frame = this.buffered.subarray(4, 4 + size);
      this.buffered = this.buffered.subarray(4 + size);
      this.waiting(frame);
    });
  }

  static open(host: string, port: number, timeoutMs = 3000): Promise<KafkaWire> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)));
      socket.once('connect', () => resolve(new KafkaWire(socket)));
      socket.once('error', reject);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private async request(apiKey: number, version: number, body: Buffer): Promise<Reader> {
    const correlationId = ++this.correlation;
    const header = Buffer.alloc(8);
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(version, 2);
    header.writeInt32BE(correlationId, 4);
    const payload = Buffer.concat([header, str('fintrans-agent-servers'), body]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length, 0);
    const frame = new Promise<Buffer>((resolve) => (this.waiting = resolve));
    this.socket.write(Buffer.concat([size, payload]));
    const r = new Reader(await Promise.race([frame, this.failed]));
    if (r.int32() !== correlationId) throw new Error('Kafka response out of order');
    return r;
  }

  /** ApiVersions v0: the broker's error code (0 once it serves requests). */
  async apiVersions(): Promise<number> {
    return (await this.request(API_VERSIONS, 0, Buffer.alloc(0))).int16();
  }

  /** Metadata v1 for no topics: the live brokers and the active controller id (-1 while none). */
  async metadata(): Promise<{ brokers: BrokerInfo[]; controllerId: number }> {
    const noTopics = Buffer.alloc(4); // an empty (not null) topic array: do not list or auto-create topics
    const r = await this.request(API_METADATA, 1, noTopics);
    const brokers: BrokerInfo[] = [];
    for (let n = r.int32(); n > 0; n--) {
      const nodeId = r.int32();
      const host = r.string() ?? '';
      const port = r.int32();
      r.string(); // rack
      brokers.push({ nodeId, host, port });
    }
    return { brokers, controllerId: r.int32() };
  }

  /** FindCoordinator v0 for a consumer group: 0 when available, 15 (COORDINATOR_NOT_AVAILABLE) before that. */
  async findGroupCoordinator(groupId: string): Promise<number> {
    return (await this.request(API_FIND_COORDINATOR, 0, str(groupId))).int16();
  }
}
