/**
 * ISO 8583:1987 (ASCII) codec and TCP framing for the card network simulator and the card gateway.
 * Pure: no sockets here. docs/iso8583.md describes the wire format and the field table.
 */
export {
  iso8583FieldSpecs,
  iso8583FieldSpecsByNumber,
  iso8583Mtis,
  iso8583ResponseMtiByRequestMti,
  iso8583ResponseMtiFor,
  isIso8583Charset,
  isIso8583Mti,
  isIso8583RequestMti,
  type Iso8583FieldSpec,
  type Iso8583Format,
  type Iso8583LengthKind,
  type Iso8583Mti,
  type Iso8583RequestMti,
  type Iso8583ResponseMti,
} from './fields.js';
export {
  checkIso8583Limits,
  createIso8583Message,
  frameIso8583,
  iso8583BodyBytesMax,
  iso8583Error,
  iso8583ErrorReason,
  maskPan,
  normalizeIso8583Message,
  packIso8583,
  packIso8583Frame,
  redactIso8583ForLog,
  unpackIso8583,
  unpackIso8583Frame,
  type Iso8583ErrorReason,
  type Iso8583LogView,
  type Iso8583Message,
} from './codec.js';
export { Iso8583FrameReader, type Iso8583FrameReaderOptions } from './framing.js';
