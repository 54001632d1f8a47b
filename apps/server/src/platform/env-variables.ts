/**
 * The machinery behind config.ts: one spec per environment variable drives how it is read and
 * checked, how `yunpay help` lists it, and the row the README's configuration table must show.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** What a variable holds. integer, boolean and enum are read generically; the others by their own parse. */
export type VariableKind =
  'integer' | 'boolean' | 'enum' | 'string' | 'host' | 'url' | 'path' | 'secret' | 'json' | 'list';

export type Parsed<T> = { value: T } | { problem: string };

/** What help and the README show of a variable. Text may hold Markdown code spans (`x`). */
export interface VariableDoc {
  readonly name: string;
  readonly kind: VariableKind;
  /** The default as shown: a value as code (`4000`) or words (generated). */
  readonly defaultText: string;
  /** Shown by help and the README. For an integer, `{range}` stands for "min–max". */
  readonly description: string;
  /** README only: more explanation and links. */
  readonly details?: string;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
}

/** A variable that config.ts reads: its doc, the value when it is unset, and how its text is read. */
export interface VariableSpec<T> extends VariableDoc {
  readonly defaultValue: T;
  /** Read the value as given, without trimming (a secret whose spaces are an error, not padding). */
  readonly untrimmed?: boolean;
  /** Turns the set, non-blank text into a value or a one-line problem that names the variable. */
  readonly parse: (text: string) => Parsed<T>;
}

export type ValueOf<S> = S extends VariableSpec<infer T> ? T : never;

type DocFields = Pick<VariableDoc, 'name' | 'description' | 'details'>;

/** Markdown code span. */
export function code(text: string): string {
  return `\`${text}\``;
}

export function integerVariable(
  options: DocFields & { defaultValue: number; min: number; max: number },
): VariableSpec<number> {
  const { name, min, max } = options;
  return {
    ...options,
    kind: 'integer',
    defaultText: code(String(options.defaultValue)),
    parse(text) {
      const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        return { problem: `${name} must be an integer from ${min} to ${max} (got "${text}")` };
      }
      return { value };
    },
  };
}

export function enumVariable<T extends string>(
  options: DocFields & { choices: readonly T[]; defaultValue: T; defaultNote?: string },
): VariableSpec<T> {
  const { name, choices, defaultNote, ...rest } = options;
  return {
    ...rest,
    name,
    choices,
    kind: 'enum',
    defaultText: defaultNote ?? code(options.defaultValue),
    parse(text) {
      const choice = choices.find((candidate) => candidate === text);
      if (choice === undefined) return { problem: `${name} must be one of ${choices.join(', ')} (got "${text}")` };
      return { value: choice };
    },
  };
}

export function booleanVariable(options: DocFields & { defaultValue: boolean }): VariableSpec<boolean> {
  const text = enumVariable({ ...options, choices: ['true', 'false'], defaultValue: String(options.defaultValue) });
  return {
    ...text,
    kind: 'boolean',
    defaultValue: options.defaultValue,
    parse(given) {
      const parsed = text.parse(given);
      return 'problem' in parsed ? parsed : { value: parsed.value === 'true' };
    },
  };
}

/** A variable read by its own parse (string, host, url, path, secret, json, list). */
export function parsedVariable<T>(
  options: DocFields & {
    kind: Exclude<VariableKind, 'integer' | 'boolean' | 'enum'>;
    defaultValue: T;
    defaultText: string;
    untrimmed?: boolean;
    parse: (text: string) => Parsed<T>;
  },
): VariableSpec<T> {
  return options;
}

/** The variable's value: its default when unset or blank; on a problem, the problem is listed and the default kept. */
export function readVariable<T>(env: Env, spec: VariableSpec<T>, problems: string[]): T {
  const given = env[spec.name];
  const text = spec.untrimmed === true ? given : given?.trim();
  if (text === undefined || text === '') return spec.defaultValue;
  const parsed = spec.parse(text);
  if ('problem' in parsed) {
    problems.push(parsed.problem);
    return spec.defaultValue;
  }
  return parsed.value;
}

/** Reads every variable of a table of specs, in table order (so problems come in that order). */
export function readVariables<Table extends Record<string, VariableSpec<unknown>>>(
  env: Env,
  table: Table,
  problems: string[],
): { [Key in keyof Table]: ValueOf<Table[Key]> } {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) values[key] = readVariable(env, spec, problems);
  return values as { [Key in keyof Table]: ValueOf<Table[Key]> };
}

/** The description with `{range}` filled in from the spec's bounds. */
export function describe(doc: VariableDoc): string {
  if (doc.min === undefined || doc.max === undefined) return doc.description;
  return doc.description.replaceAll('{range}', `${doc.min}–${doc.max}`);
}

function withoutCode(text: string): string {
  return text.replaceAll('`', '');
}

/** The environment section of `yunpay help`: name, default and description, one line each. */
export function helpLines(docs: readonly VariableDoc[]): string[] {
  const shown = docs.map((doc) => ({
    name: doc.name,
    defaultText: withoutCode(doc.defaultText),
    description: withoutCode(describe(doc)),
  }));
  const nameWidth = Math.max(...shown.map((row) => row.name.length));
  const defaultWidth = Math.max(...shown.map((row) => row.defaultText.length));
  return shown.map(
    (row) => `  ${row.name.padEnd(nameWidth)}  ${row.defaultText.padEnd(defaultWidth)}  ${row.description}`,
  );
}

/** The cells of the README configuration table's row for a variable: name, default, meaning. */
export function readmeRow(doc: VariableDoc): [string, string, string] {
  const meaning = doc.details === undefined ? describe(doc) : `${describe(doc)} ${doc.details}`;
  return [code(doc.name), doc.defaultText, meaning];
}

/** The README's configuration table, unpadded (prettier pads it). */
export function readmeTable(docs: readonly VariableDoc[]): string {
  const lines = ['| Variable | Default | Meaning |', '| --- | --- | --- |'];
  for (const row of docs.map(readmeRow)) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}
