/**
 * The transaction shapes the generator produces, modelled on the seed projects: `financial_transactions` (the
 * Kafka/Spark 1.2-billion-records-per-hour producer), `finance` (the Flume/Kafka/InfluxDB Generator.py) and
 * `fintrans` (the DC/OS Kafka demo's per-city account transfers).
 *
 * Each builder writes the JSON text by concatenation, in the same key order as the object it also returns, so the
 * text equals JSON.stringify(object): sinks that write text never serialize, processors that read fields never
 * parse. Every string is drawn from fixed alphabets without quotes or backslashes, so no escaping is needed.
 *
 * Clean data is built not to look like fraud: amounts stay below 10,000 and every user (account) has one home
 * location derived from its number, so the anomalies planted on top (see anomalies.ts) are the only ones.
 */
import { Event } from '../../../agent/index.ts';
import { mix32, type Sfc32, uuid } from './prng.ts';

/**
 * The JSON text of cents / 100, identical to String(cents / 100). Formatting a double costs several times more
 * than formatting two small integers, and amounts are a large share of the per-event work.
 */
export function centsText(cents: number): string {
  const whole = Math.floor(cents / 100);
  const frac = cents - whole * 100;
  if (frac === 0) return '' + whole;
  if (frac % 10 === 0) return whole + '.' + frac / 10;
  return whole + (frac < 10 ? '.0' : '.') + frac;
}

export const SCHEMA_NAMES = ['financial_transactions', 'finance', 'fintrans'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** Builds one event whose business time is `timeMs` (epoch milliseconds). */
export type EventBuilder = (rng: Sfc32, timeMs: number, ingestTime: number) => Event;

// ------------------------------------------------------------------ financial_transactions

export const LOCATIONS: readonly string[] = Array.from({ length: 999 }, (_, i) => 'location_' + (i + 1));

/** Index into LOCATIONS of a user's home: a hash, so it needs no table and holds for fresh (planted) users too. */
export function homeLocation(userNumber: number): number {
  return (mix32(userNumber) >>> 0) % LOCATIONS.length;
}

const PAYMENT_METHODS = ['credit_card', 'paypal', 'bank_transfer'] as const;
const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD', 'SGD'] as const;

export function financialTransaction(rng: Sfc32, timeMs: number, ingestTime: number): Event {
  const transactionId = uuid(rng);
  // Ranges keep ids within the seed's column widths (userId 12 bytes, merchantId and location 12 bytes) while
  // repeating often enough for per-user and per-merchant aggregation demos to have something to aggregate.
  const userNumber = rng.int(100_000) + 1;
  const userId = 'user_' + userNumber;
  const cents = rng.int(999_900) + 100; // 1.00 to 9,999.99: a big-ticket rule at 10,000 only sees planted amounts
  const transactionTime = Math.floor(timeMs / 1000);
  const merchantId = 'merchant_' + (rng.int(999) + 1);
  const transactionType = rng.int(10) === 0 ? 'refund' : 'purchase';
  const location = LOCATIONS[homeLocation(userNumber)]!;
  const paymentMethod = rng.pick(PAYMENT_METHODS);
  const isInternational = rng.int(5) === 0;
  const currency = rng.pick(CURRENCIES);
  const text =
    '{"transactionId":"' + transactionId + '","userId":"' + userId + '","amount":' + centsText(cents) +
    ',"transactionTime":' + transactionTime + ',"merchantId":"' + merchantId + '","transactionType":"' +
    transactionType + '","location":"' + location + '","paymentMethod":"' + paymentMethod +
    '","isInternational":' + isInternational + ',"currency":"' + currency + '"}';
  const data = {
    transactionId, userId, amount: cents / 100, transactionTime, merchantId, transactionType, location, paymentMethod,
    isInternational, currency,
  };
  return new Event({}, text, data, ingestTime);
}

// ------------------------------------------------------------------ finance (Generator.py)

const TX_TYPES = ['deposit', 'withdrawal', 'transfer', 'payment'] as const;
export const TX_TYPE_LABELS: Record<string, string> = { deposit: 'Deposit', withdrawal: 'Withdrawal', transfer: 'Transfer', payment: 'Payment' };
const FINANCE_CURRENCIES = ['USD', 'EUR', 'JPY', 'GBP'] as const;
const BRANCHES = ['Main Street', 'Second Avenue', 'Third Boulevard', 'Fourth Square'] as const;
const GENDERS = ['Male', 'Female', 'Other'] as const;
const CHANNELS = ['online', 'ATM', 'branch', 'mobile'] as const;
const STATUSES = ['completed', 'pending', 'failed'] as const;
export const CITIES = ['New York', 'San Francisco', 'London', 'Tokyo', 'Berlin'] as const;
export const COUNTRY_OF: Record<string, string> = { 'New York': 'USA', 'San Francisco': 'USA', London: 'UK', Tokyo: 'Japan', Berlin: 'Germany' };

export function homeCity(accountNumber: number): string {
  return CITIES[(mix32(accountNumber) >>> 0) % CITIES.length]!;
}

// toISOString costs more than the rest of an event; consecutive events mostly share the second, so only the
// milliseconds are formatted per event.
let isoSecond = Number.NaN;
let isoPrefix = '';
function isoMillis(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const milli = ms - second * 1000;
  return isoPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}

export function financeTransaction(rng: Sfc32, timeMs: number, ingestTime: number): Event {
  const transaction_id = 'T' + (100_000 + rng.int(900_000));
  const accountNumber = 100_000 + rng.int(900_000);
  const account_id = 'A' + accountNumber;
  const transaction_type = rng.pick(TX_TYPES);
  const amountCents = 10_000 + rng.int(490_001); // round(uniform(100, 5000), 2)
  const amountText = centsText(amountCents);
  const currency = rng.pick(FINANCE_CURRENCIES);
  const transaction_date = isoMillis(timeMs);
  const description = TX_TYPE_LABELS[transaction_type] + ' of ' + amountText + ' ' + currency;
  const branch = rng.pick(BRANCHES);
  const customer_age = 18 + rng.int(63);
  const customer_gender = rng.pick(GENDERS);
  const balanceCents = 100_000 + rng.int(4_900_001);
  const transaction_channel = rng.pick(CHANNELS);
  const transaction_status = rng.pick(STATUSES);
  const merchant_id = transaction_type === 'payment' || transaction_type === 'transfer' ? 'M' + (1000 + rng.int(9000)) : null;
  const location_city = homeCity(accountNumber);
  const location_country = COUNTRY_OF[location_city]!;
  const text =
    '{"transaction_id":"' + transaction_id + '","account_id":"' + account_id + '","transaction_type":"' +
    transaction_type + '","amount":' + amountText + ',"currency":"' + currency + '","transaction_date":"' +
    transaction_date + '","description":"' + description + '","branch":"' + branch + '","customer_age":' +
    customer_age + ',"customer_gender":"' + customer_gender + '","account_balance":' + centsText(balanceCents) +
    ',"transaction_channel":"' + transaction_channel + '","transaction_status":"' + transaction_status +
    '","merchant_id":' + (merchant_id === null ? 'null' : '"' + merchant_id + '"') + ',"location_city":"' +
    location_city + '","location_country":"' + location_country + '"}';
  const data = {
    transaction_id, account_id, transaction_type, amount: amountCents / 100, currency, transaction_date, description,
    branch, customer_age, customer_gender, account_balance: balanceCents / 100, transaction_channel, transaction_status, merchant_id,
    location_city, location_country,
  };
  return new Event({}, text, data, ingestTime);
}

// ------------------------------------------------------------------ fintrans (DC/OS demo)

const FINTRANS_CITIES = ['London', 'NYC', 'SF', 'Moscow', 'Tokyo'] as const;

export function fintransTransaction(rng: Sfc32, timeMs: number, ingestTime: number): Event {
  const city = rng.pick(FINTRANS_CITIES);
  // A thousand accounts make the same source→target pair recur, which the laundering-detector demo relies on.
  const source = String(rng.int(1000));
  const target = String(rng.int(1000));
  const amount = rng.int(1000) + 1;
  const ts = timeMs;
  const text = '{"city":"' + city + '","source":"' + source + '","target":"' + target + '","amount":' + amount + ',"ts":' + ts + '}';
  return new Event({}, text, { city, source, target, amount, ts }, ingestTime);
}

export const BUILDERS: Record<SchemaName, EventBuilder> = {
  financial_transactions: financialTransaction,
  finance: financeTransaction,
  fintrans: fintransTransaction,
};

