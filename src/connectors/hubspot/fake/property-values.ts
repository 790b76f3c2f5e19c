import type { PropertyProblem } from './fake-errors.js';
import type { PropertyDefinition } from './object-types.js';

/**
 * A write's property values checked against the type's definitions, the way HubSpot checks them:
 * unknown names, read-only properties and values that do not fit the type are listed together.
 * Values are stored as strings (HubSpot accepts JSON numbers and booleans and answers strings);
 * `null` clears a value.
 */
export function checkValues(
  input: unknown,
  definitions: ReadonlyMap<string, PropertyDefinition>,
  portalId: number,
): { values: Record<string, string>; problems: PropertyProblem[] } {
  const values: Record<string, string> = {};
  const problems: PropertyProblem[] = [];
  if (input === undefined || input === null) return { values, problems };
  const problem = (name: string, error: string, message: string) =>
    problems.push({ isValid: false, message, error, name, localizedErrorMessage: message, portalId });
  if (typeof input !== 'object' || Array.isArray(input)) {
    problem('properties', 'INVALID_INPUT', 'properties must be an object of names to values');
    return { values, problems };
  }
  for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
    const definition = definitions.get(name);
    if (!definition || definition.archived) {
      problem(name, 'PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`);
      continue;
    }
    if (definition.readOnlyValue) {
      problem(name, 'READ_ONLY_VALUE', `${name} is a read only property; its value cannot be set.`);
      continue;
    }
    if (raw === null) {
      values[name] = '';
      continue;
    }
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      problem(name, 'INVALID_INPUT', `${JSON.stringify(raw).slice(0, 100)} is not a valid value for ${name}`);
      continue;
    }
    const value = String(raw);
    const wrong = wrongValue(definition, value);
    if (wrong) problem(name, wrong.error, wrong.message);
    else values[name] = value;
  }
  return { values, problems };
}

function wrongValue(
  definition: PropertyDefinition,
  value: string,
): { error: string; message: string } | undefined {
  if (value === '') return undefined;
  switch (definition.type) {
    case 'number':
      return Number.isFinite(Number(value))
        ? undefined
        : { error: 'INVALID_INTEGER', message: `${value} was not a valid number.` };
    case 'bool':
      return value === 'true' || value === 'false'
        ? undefined
        : { error: 'INVALID_BOOLEAN', message: `${value} was not a valid boolean (true or false).` };
    case 'date':
    case 'datetime':
      return Number.isFinite(Number(value)) || !Number.isNaN(Date.parse(value))
        ? undefined
        : { error: 'INVALID_DATE', message: `${value} was not a valid date.` };
    case 'enumeration': {
      const allowed = new Set(definition.options.map((o) => o.value));
      // Checkboxes take several options separated by ";".
      const chosen = definition.fieldType === 'checkbox' ? value.split(';') : [value];
      const bad = allowed.size === 0 ? undefined : chosen.find((v) => !allowed.has(v));
      return bad === undefined
        ? undefined
        : {
            error: 'INVALID_OPTION',
            message: `${bad} was not one of the allowed options: ${[...allowed].map((o) => `<option>${o}</option>`).join(', ')}`,
          };
    }
    default:
      return undefined;
  }
}
