import { AppError } from '../platform/errors.js';
import { limits } from '../platform/limits.js';

/** Who is asking: every loader returns only what this account sees in this mode. */
export interface V1Scope {
  accountId: string;
  livemode: boolean;
}

/** Loads one object of a type by id for the requesting account and mode; null when it does not see it. */
export type ExpandLoader = (scope: V1Scope, id: string) => Promise<Record<string, unknown> | null>;

function expandError(path: string): AppError {
  return new AppError('expand_invalid', { message: `This property cannot be expanded (${path}).`, param: 'expand' });
}

/**
 * What `expand[]` can reach: for each object type, which of its fields (dotted, e.g.
 * `invoice_settings.default_payment_method`) hold the id of which object type, and for each type
 * how to load it. Contexts register their types when the services are built.
 */
export class ExpandRegistry {
  private readonly loaders = new Map<string, ExpandLoader>();
  private readonly fields = new Map<string, Map<string, string>>();

  registerLoader(objectType: string, loader: ExpandLoader): void {
    if (this.loaders.has(objectType)) throw new Error(`assertion failed: expand loader ${objectType} registered twice`);
    this.loaders.set(objectType, loader);
  }

  /** `registerFields('payment_intent', { customer: 'customer', latest_charge: 'charge' })` */
  registerFields(objectType: string, fields: Readonly<Record<string, string>>): void {
    const known = this.fields.get(objectType) ?? new Map<string, string>();
    for (const [field, target] of Object.entries(fields)) known.set(field, target);
    this.fields.set(objectType, known);
  }

  /** The longest registered field that prefixes `segments`, or null. */
  private match(objectType: string, segments: readonly string[]): { length: number; target: string } | null {
    const known = this.fields.get(objectType);
    if (known === undefined) return null;
    for (let length = segments.length; length >= 1; length -= 1) {
      const target = known.get(segments.slice(0, length).join('.'));
      if (target !== undefined) return { length, target };
    }
    return null;
  }

  /**
   * Checks paths before the request runs (so a bad expand changes nothing). `objectType` is what
   * the route returns; `list` when it returns a list of them (paths then start with `data.`).
   */
  validate(paths: readonly string[], resource: { objectType: string; list: boolean } | null): void {
    if (paths.length > limits.v1ExpandPathsMax) {
      throw new AppError('parameter_invalid', {
        message: `You may expand at most ${limits.v1ExpandPathsMax} properties.`,
        param: 'expand',
      });
    }
    for (const path of paths) {
      if (resource === null) throw expandError(path);
      let segments = path.split('.');
      if (resource.list) {
        if (segments[0] !== 'data') throw expandError(path);
        segments = segments.slice(1);
      }
      if (segments.length === 0 || segments.some((segment) => segment === '')) throw expandError(path);
      if (segments.length > limits.v1ExpandDepthMax) {
        throw new AppError('expand_invalid', {
          message: `You cannot expand more than ${limits.v1ExpandDepthMax} levels of a property (${path}).`,
          param: 'expand',
        });
      }
      let objectType = resource.objectType;
      while (segments.length > 0) {
        const found = this.match(objectType, segments);
        if (found === null || !this.loaders.has(found.target)) throw expandError(path);
        objectType = found.target;
        segments = segments.slice(found.length);
      }
    }
  }

  /** Replaces ids by their objects along each path (on a copy); ids the caller cannot see stay ids. */
  async expand(scope: V1Scope, value: unknown, paths: readonly string[]): Promise<unknown> {
    if (paths.length === 0 || value === null || typeof value !== 'object') return value;
    const copy = structuredClone(value) as Record<string, unknown>;
    for (const path of paths) await this.expandAt(scope, copy, path.split('.'));
    return copy;
  }

  private async expandAt(scope: V1Scope, node: Record<string, unknown>, segments: readonly string[]): Promise<void> {
    if (node.object === 'list' && Array.isArray(node.data) && segments[0] === 'data') {
      for (const item of node.data) {
        if (item !== null && typeof item === 'object') {
          await this.expandAt(scope, item as Record<string, unknown>, segments.slice(1));
        }
      }
      return;
    }
    if (typeof node.object !== 'string') return;
    const found = this.match(node.object, segments);
    if (found === null) return;
    let holder: unknown = node;
    for (const segment of segments.slice(0, found.length - 1)) {
      if (holder === null || typeof holder !== 'object') return;
      holder = (holder as Record<string, unknown>)[segment];
    }
    if (holder === null || typeof holder !== 'object') return;
    const field = segments[found.length - 1] ?? '';
    const record = holder as Record<string, unknown>;
    let current = record[field];
    if (typeof current === 'string') {
      const loader = this.loaders.get(found.target);
      const loaded = loader === undefined ? null : await loader(scope, current);
      if (loaded !== null) {
        record[field] = loaded;
        current = loaded;
      }
    }
    const rest = segments.slice(found.length);
    if (rest.length > 0 && current !== null && typeof current === 'object') {
      await this.expandAt(scope, current as Record<string, unknown>, rest);
    }
  }
}
