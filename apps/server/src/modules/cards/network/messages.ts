/**
 * Small helpers both ends of the card network share: the field 7 clock format and the key that
 * matches a response to its request (response MTI + STAN + RRN, docs/card-network.md).
 */
import { assert } from '../../../platform/errors.js';
import type { Iso8583Message } from '../iso8583/index.js';

const two = (value: number): string => String(value).padStart(2, '0');

/** Field 7, transmission date and time: `MMDDhhmmss` in UTC. */
export function transmissionDateTime(at: Date): string {
  assert(!Number.isNaN(at.getTime()), 'transmissionDateTime needs a valid date');
  return (
    two(at.getUTCMonth() + 1) +
    two(at.getUTCDate()) +
    two(at.getUTCHours()) +
    two(at.getUTCMinutes()) +
    two(at.getUTCSeconds())
  );
}

/**
 * The instant field 7 names, given when it was received (field 7 carries no year: the year that puts
 * it nearest to receivedAt is taken). Null when field 7 is not a valid date and time.
 */
export function transmissionInstant(field7: string, receivedAt: Date): Date | null {
  if (!/^[0-9]{10}$/.test(field7)) return null;
  const [month, day, hours, minutes, seconds] = [0, 2, 4, 6, 8].map((start) =>
    Number.parseInt(field7.slice(start, start + 2), 10),
  ) as [number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hours > 23 || minutes > 59 || seconds > 59) return null;
  let best: Date | null = null;
  const receivedYear = receivedAt.getUTCFullYear();
  for (const year of [receivedYear - 1, receivedYear, receivedYear + 1]) {
    const candidate = new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds));
    if (candidate.getUTCMonth() !== month - 1) continue; // 31 April and the like
    const distance = Math.abs(candidate.getTime() - receivedAt.getTime());
    if (best === null || distance < Math.abs(best.getTime() - receivedAt.getTime())) best = candidate;
  }
  return best;
}

/** The key a response is matched by: response MTI, STAN (11) and RRN (37, empty when absent). */
export function iso8583MatchKey(responseMti: string, stan: string, rrn: string | undefined): string {
  return `${responseMti}|${stan}|${rrn ?? ''}`;
}

/** The match key of a message that is a response (its own MTI, 11 and 37). */
export function iso8583ResponseMatchKey(response: Iso8583Message): string {
  return iso8583MatchKey(response.mti, response.fields.get(11) ?? '', response.fields.get(37));
}
