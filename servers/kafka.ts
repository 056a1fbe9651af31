/**
 * Kafka 3.9 as a single KRaft node (broker + controller in one JVM) on 127.0.0.1:9092, controller on 9093, plus
 * two secured listeners for the TLS/SASL tests: SSL on 9094 (mutual TLS: the client certificate is required) and
 * SASL_SSL on 9095 (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; server certificate only). Certificates come from
 * servers/tls.ts; the SASL users' passwords are generated once into `.servers/kafka/secrets/` (see `kafkaSecurity`).
 *
 * 3.9 is the last line that accepts every old protocol version (kafkajs negotiates old ones) and still logs with
 * reload4j. Its core jar declares reload4j compile-only, so slf4j-reload4j is added: without a binding there are
 * no logs at all. Settings are tuned for one broker on 2 cores: replication factor 1 for the internal topics
 * (default 3 can never be satisfied, consumers would loop on "group coordinator not available"), 5 offsets
 * partitions instead of 50, and no initial rebalance delay.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchMaven, run } from './fetch.ts';
import { KafkaWire } from './kafka-protocol.ts';
import { serverDir, type Ctx, type ServerDef } from './layout.ts';
import { HOST, tcpOpen } from './probe.ts';
import { ensureTls, keystorePassword, tlsFiles } from './tls.ts';

const VERSION = '3.9.2';
export const KAFKA_PORT = 9092;
const CONTROLLER_PORT = 9093;
export const KAFKA_SSL_PORT = 9094;
export const KAFKA_SASL_PORT = 9095;
const HEAP = '512m';

const SECRETS = join(serverDir('kafka'), 'secrets');
const SCRAM_ITERATIONS = 4096;

/** Where the secured listeners are and who may log in; the password files exist once the broker was started. */
export const kafkaSecurity = {
  /** Mutual TLS: verify the broker with `caFile`, present `certFile`/`keyFile`. */
  ssl: { brokers: [`${HOST}:${KAFKA_SSL_PORT}`], caFile: tlsFiles.caCert, certFile: tlsFiles.clientCert, keyFile: tlsFiles.clientKey },
  /** SASL over TLS (server certificate only): PLAIN user and SCRAM user (SHA-256 and SHA-512 credentials). */
  sasl: {
    brokers: [`${HOST}:${KAFKA_SASL_PORT}`],
    caFile: tlsFiles.caCert,
    plain: { username: 'fta-plain', passwordFile: join(SECRETS, 'fta-plain.password') },
    scram: { username: 'fta-scram', passwordFile: join(SECRETS, 'fta-scram.password') },
  },
} as const;

/** The password of a SASL user, generated on first use and then kept (SCRAM credentials live in the metadata log). */
function password(file: string): string {
  if (!existsSync(file)) {
    mkdirSync(SECRETS, { recursive: true });
    writeFileSync(file, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * `--add-scram` arguments with a salted password instead of the password: the command line is written to
 * logs/tools.log (and visible in ps), the plain password never is.
 */
function scramArgs(): string[] {
  const { username, passwordFile } = kafkaSecurity.sasl.scram;
  const pw = password(passwordFile);
  return (['sha256', 'sha512'] as const).flatMap((hash) => {
    const salt = randomBytes(24);
    const salted = pbkdf2Sync(pw, salt, SCRAM_ITERATIONS, hash === 'sha256' ? 32 : 64, hash);
    return ['--add-scram', `SCRAM-SHA-${hash.slice(3)}=[name=${username},salt="${salt.toString('base64')}",` +
      `saltedpassword="${salted.toString('base64')}",iterations=${SCRAM_ITERATIONS}]`];
  });
}

function securityProperties(): string {
  const store = keystorePassword();
  const plain = kafkaSecurity.sasl.plain;
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return `ssl.keystore.type=PKCS12
ssl.keystore.location=${tlsFiles.serverKeystore}
ssl.keystore.password=${store}
ssl.key.password=${store}
ssl.truststore.type=PEM
ssl.truststore.location=${tlsFiles.caCert}
listener.name.ssl.ssl.client.auth=required
listener.name.sasl_ssl.ssl.client.auth=none
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${plain.username}="${password(plain.passwordFile)}";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scram}
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scram}
`;
}

function serverProperties(ctx: Ctx): string {
  return `# written by servers/kafka.ts on every start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${CONTROLLER_PORT}
listeners=PLAINTEXT://${HOST}:${KAFKA_PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT},SSL://${HOST}:${KAFKA_SSL_PORT},SASL_SSL://${HOST}:${KAFKA_SASL_PORT}
advertised.listeners=PLAINTEXT://${HOST}:${KAFKA_PORT},SSL://${HOST}:${KAFKA_SSL_PORT},SASL_SSL://${HOST}:${KAFKA_SASL_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
${securityProperties()}log.dirs=${join(ctx.data, 'kraft')}
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
`;
}

const LOG4J = `# written by servers/kafka.ts: everything to stdout, which the harness appends to logs/kafka.log
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
`;

/** A Kafka cluster id is 16 random bytes in URL-safe base64 without padding (what `random-uuid` prints). */
function clusterId(): string {
  return randomBytes(16).toString('base64url');
}

export const kafka: ServerDef = {
  name: 'kafka',
  version: `Apache Kafka ${VERSION} (kafka_2.13, KRaft)`,
  ports: [KAFKA_PORT, CONTROLLER_PORT, KAFKA_SSL_PORT, KAFKA_SASL_PORT],
  needsJava: true,
  readyTimeoutMs: 90_000,

  fetch: (ctx) => fetchMaven(ctx, { deps: [`org.apache.kafka:kafka_2.13:${VERSION}`, 'org.slf4j:slf4j-reload4j:1.7.36'] }),

  async configure(ctx, fresh) {
    await ensureTls(ctx);
    writeFileSync(join(ctx.conf, 'server.properties'), serverProperties(ctx), { mode: 0o600 });
    writeFileSync(join(ctx.conf, 'log4j.properties'), LOG4J);
    const logDir = join(ctx.data, 'kraft');
    if (fresh) rmSync(logDir, { recursive: true, force: true });
    if (existsSync(join(logDir, 'meta.properties'))) return;
    mkdirSync(logDir, { recursive: true });
    await run(ctx, ctx.java, [
      `-Dlog4j.configuration=file:${join(ctx.conf, 'log4j.properties')}`,
      '-cp', join(ctx.libs, '*'),
      'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', join(ctx.conf, 'server.properties'), ...scramArgs(),
    ]);
  },

  processes: (ctx) => [
    {
      id: 'kafka',
      cmd: ctx.java,
      args: [
        `-Xms${HEAP}`, `-Xmx${HEAP}`,
        // the G1 settings of Kafka's own kafka-run-class.sh
        '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35', '-XX:+ExplicitGCInvokesConcurrent',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${join(ctx.conf, 'log4j.properties')}`,
        `-Dkafka.logs.dir=${ctx.logs}`,
        '-cp', join(ctx.libs, '*'),
        'kafka.Kafka', join(ctx.conf, 'server.properties'),
      ],
    },
  ],

  async ready() {
    let wire: KafkaWire;
    try {
      wire = await KafkaWire.open(HOST, KAFKA_PORT);
    } catch (e) {
      return `connect ${HOST}:${KAFKA_PORT}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
    try {
      const apiError = await wire.apiVersions();
      if (apiError !== 0) return `ApiVersions answered error ${apiError}`;
      const md = await wire.metadata();
      if (!md.brokers.some((b) => b.host === HOST && b.port === KAFKA_PORT)) return 'broker not registered in the metadata yet';
      if (md.controllerId < 0) return 'no active controller yet';
      const coordinator = await wire.findGroupCoordinator('fintrans-agent-servers-probe');
      if (coordinator !== 0) return `group coordinator not available yet (error ${coordinator})`;
      // A broker started before the secured listeners existed is restarted by the harness with them.
      for (const port of [KAFKA_SSL_PORT, KAFKA_SASL_PORT]) if (!(await tcpOpen(port))) return `listener ${HOST}:${port} not open`;
      return true;
    } catch (e) {
      return (e as Error).message;
    } finally {
      wire.close();
    }
  },
};
