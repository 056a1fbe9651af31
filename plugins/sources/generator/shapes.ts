/**
 * Planting: the fields each transaction shape offers the anomalies (user key, per-user location, amount, account
 * pair) and how a planted event is derived from the clean event of its slot, keeping dependent fields (a finance
 * description, a city's country) consistent so a planted event is still a valid transaction of its shape.
 */
import {
  CITIES, COUNTRY_OF, type EventBuilder, LOCATIONS, type SchemaName, TX_TYPE_LABELS, centsText, financeTransaction,
  financialTransaction, fintransTransaction, homeCity, homeLocation,
} from './schemas.ts';

/**
 * What a planted event changes in the clean event of its slot. Fresh numbers (0, 1, 2, ...) name users and accounts
 * that no clean event uses; each shape maps them into its own id space.
 */
export interface Patch {
  /** The event's user (its key for per-user rules) becomes fresh user `user`, at that user's home location. */
  readonly user?: number;
  /** Index into the shape's locations. */
  readonly location?: number;
  /** The amount, in cents (whole units for shapes with whole amounts). */
  readonly cents?: number;
  /** Fresh accounts for the transfer's source and target. */
  readonly source?: number;
  readonly target?: number;
}

type Data = Record<string, unknown>;

/** The fields the anomalies touch, per shape, and how to apply a patch so dependent fields stay consistent. */
export interface Shape {
  readonly build: EventBuilder;
  readonly userField: string;
  /** The per-user location field; undefined when the shape has none. */
  readonly locationField?: string;
  readonly locations: number;
  readonly amountField: string;
  /** The largest amount clean events carry. */
  readonly cleanMaxAmount: number;
  readonly wholeAmounts: boolean;
  /** Source and target account fields; undefined when the shape has none. */
  readonly pairFields?: readonly [string, string];
  patch(data: Data, patch: Patch): Data;
}

// user_1000000 onwards: seven digits keep userId within its 12-byte column for 9 million fresh users.
const FRESH_USER = 1_000_000;
// Clean transfers use accounts 0 to 999.
const FRESH_ACCOUNT = 1000;

function setCity(d: Data, city: string): void {
  d.location_city = city;
  d.location_country = COUNTRY_OF[city]!;
}

export const SHAPES: Record<SchemaName, Shape> = {
  financial_transactions: {
    build: financialTransaction, userField: 'userId', locationField: 'location', locations: LOCATIONS.length,
    amountField: 'amount', cleanMaxAmount: 9999.99, wholeAmounts: false,
    patch(data, p) {
      const d = { ...data };
      if (p.user !== undefined) {
        d.userId = 'user_' + (FRESH_USER + p.user);
        d.location = LOCATIONS[homeLocation(FRESH_USER + p.user)];
      }
      if (p.location !== undefined) d.location = LOCATIONS[p.location];
      if (p.cents !== undefined) d.amount = p.cents / 100;
      return d;
    },
  },
  finance: {
    build: financeTransaction, userField: 'account_id', locationField: 'location_city', locations: CITIES.length,
    amountField: 'amount', cleanMaxAmount: 5000, wholeAmounts: false,
    patch(data, p) {
      const d = { ...data };
      if (p.user !== undefined) {
        // "A0" and five digits: the pattern of an account id, yet below every clean account (A100000 up); the
        // hundred thousand fresh ids are reused after that many planted users.
        const n = p.user % 100_000;
        d.account_id = 'A' + String(n).padStart(6, '0');
        setCity(d, homeCity(n));
      }
      if (p.location !== undefined) setCity(d, CITIES[p.location]!);
      if (p.cents !== undefined) {
        d.amount = p.cents / 100;
        d.description = TX_TYPE_LABELS[d.transaction_type as string] + ' of ' + centsText(p.cents) + ' ' + d.currency;
      }
      return d;
    },
  },
  fintrans: {
    build: fintransTransaction, userField: 'source', locations: 0, amountField: 'amount', cleanMaxAmount: 1000,
    wholeAmounts: true, pairFields: ['source', 'target'],
    patch(data, p) {
      const d = { ...data };
      if (p.user !== undefined) d.source = String(FRESH_ACCOUNT + p.user);
      if (p.source !== undefined) d.source = String(FRESH_ACCOUNT + p.source);
      if (p.target !== undefined) d.target = String(FRESH_ACCOUNT + p.target);
      if (p.cents !== undefined) d.amount = p.cents / 100;
      return d;
    },
  },
};
