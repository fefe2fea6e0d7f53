import {
  propertyExists,
  propertyNotFound,
  propertyValueError,
  validationError,
  type PropertyValueError,
} from './errors';

export const PROPERTY_TYPES = ['string', 'number', 'date', 'datetime', 'enumeration', 'bool'] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];
export const FIELD_TYPES = [
  'textarea',
  'text',
  'date',
  'file',
  'number',
  'select',
  'radio',
  'checkbox',
  'booleancheckbox',
  'calculation_equation',
  'phonenumber',
  'html',
] as const;

export interface PropertyOption {
  label: string;
  value: string;
  description: string;
  displayOrder: number;
  hidden: boolean;
}

export interface PropertyDefinition {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  description: string;
  options: PropertyOption[];
  hasUniqueValue: boolean;
  hubspotDefined: boolean;
  /** Set by HubSpot itself (id and timestamps); a write that names one is refused. */
  readOnlyValue: boolean;
  createdAt: string;
  updatedAt: string;
}

/** Always returned on reads and search results, whatever `properties` asked for, as HubSpot does. */
export const ALWAYS_RETURNED = ['hs_object_id', 'createdate', 'lastmodifieddate'] as const;
/** What a read returns when it names no `properties`. */
export const DEFAULT_RETURNED = [
  'createdate',
  'email',
  'firstname',
  'hs_object_id',
  'lastmodifieddate',
  'lastname',
] as const;

const BUILT_IN_AT = '2019-08-06T02:41:52.287Z';

function builtIn(
  name: string,
  label: string,
  type: PropertyType,
  fieldType: string,
  extra: Partial<PropertyDefinition> = {},
): PropertyDefinition {
  return {
    name,
    label,
    type,
    fieldType,
    groupName: 'contactinformation',
    description: '',
    options: [],
    hasUniqueValue: false,
    hubspotDefined: true,
    readOnlyValue: false,
    createdAt: BUILT_IN_AT,
    updatedAt: BUILT_IN_AT,
    ...extra,
  };
}

const LIFECYCLE_STAGES = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
];

function defaultProperties(): PropertyDefinition[] {
  return [
    builtIn('email', 'Email', 'string', 'text'),
    builtIn('firstname', 'First Name', 'string', 'text'),
    builtIn('lastname', 'Last Name', 'string', 'text'),
    builtIn('phone', 'Phone Number', 'string', 'phonenumber'),
    builtIn('company', 'Company Name', 'string', 'text'),
    builtIn('lifecyclestage', 'Lifecycle Stage', 'enumeration', 'radio', {
      options: LIFECYCLE_STAGES.map((value, i) => ({
        label: value,
        value,
        description: '',
        displayOrder: i,
        hidden: false,
      })),
    }),
    builtIn('hs_object_id', 'Record ID', 'number', 'number', { readOnlyValue: true }),
    builtIn('createdate', 'Create Date', 'datetime', 'date', { readOnlyValue: true }),
    builtIn('lastmodifieddate', 'Last Modified Date', 'datetime', 'date', { readOnlyValue: true }),
  ];
}

/** The Property model of the properties API. */
export function propertyToApi(def: PropertyDefinition): Record<string, unknown> {
  return {
    name: def.name,
    label: def.label,
    type: def.type,
    fieldType: def.fieldType,
    description: def.description,
    groupName: def.groupName,
    options: def.options,
    displayOrder: -1,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: def.hasUniqueValue,
    hidden: false,
    ...(def.hubspotDefined ? { hubspotDefined: true } : {}),
    modificationMetadata: {
      archivable: !def.hubspotDefined,
      readOnlyDefinition: def.hubspotDefined,
      readOnlyValue: def.readOnlyValue,
    },
    formField: !def.readOnlyValue,
    createdAt: def.createdAt,
    updatedAt: def.updatedAt,
    archived: false,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NAME_PATTERN = /^[a-z][a-z0-9_]{0,99}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The outcome of checking one write's `properties`. */
export interface CheckedWrite {
  /** Normalised values; `null` clears the property. */
  values: Record<string, string | null>;
  /** Names that do not exist or may not be written: HubSpot refuses the whole request for these. */
  schemaErrors: PropertyValueError[];
  /** Values of the wrong shape (bad email, not a number): one input of a batch fails for these. */
  valueErrors: PropertyValueError[];
}

export class PropertyStore {
  private readonly byName = new Map<string, PropertyDefinition>();

  constructor() {
    this.reset();
  }

  reset(): void {
    this.byName.clear();
    for (const def of defaultProperties()) this.byName.set(def.name, def);
  }

  list(): PropertyDefinition[] {
    return [...this.byName.values()];
  }

  /** Replaces the definitions with saved ones (a restart); HubSpot's own come back if missing. */
  restore(saved: PropertyDefinition[]): void {
    this.reset();
    for (const def of saved) this.byName.set(def.name, structuredClone(def));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  find(name: string): PropertyDefinition | undefined {
    return this.byName.get(name);
  }

  get(name: string): PropertyDefinition {
    const def = this.byName.get(name);
    if (!def) throw propertyNotFound(name);
    return def;
  }

  create(input: unknown): PropertyDefinition {
    if (!isRecord(input))
      throw validationError('Invalid input JSON: expected an object with name, label, type, fieldType and groupName');
    const { name, label, type, fieldType, groupName } = input;
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw validationError(
        `Property name must start with a lowercase letter and contain only lowercase letters, digits and underscores: ${String(name)}`,
        {
          name: [String(name)],
        },
      );
    }
    if (typeof label !== 'string' || label.trim() === '')
      throw validationError('Property label is required', { name: [name] });
    if (typeof type !== 'string' || !(PROPERTY_TYPES as readonly string[]).includes(type)) {
      throw validationError(`Property type must be one of ${PROPERTY_TYPES.join(', ')}; got ${String(type)}`, {
        name: [name],
      });
    }
    if (typeof fieldType !== 'string' || !(FIELD_TYPES as readonly string[]).includes(fieldType)) {
      throw validationError(`Property fieldType must be one of ${FIELD_TYPES.join(', ')}; got ${String(fieldType)}`, {
        name: [name],
      });
    }
    // Any group is accepted: the emulator has no groups API to create one through first.
    if (typeof groupName !== 'string' || groupName.trim() === '')
      throw validationError('Property groupName is required', { name: [name] });
    if (this.byName.has(name)) throw propertyExists(name);
    const now = new Date().toISOString();
    const def: PropertyDefinition = {
      name,
      label,
      type: type as PropertyType,
      fieldType,
      groupName,
      description: typeof input.description === 'string' ? input.description : '',
      options: parseOptions(input.options),
      hasUniqueValue: input.hasUniqueValue === true,
      hubspotDefined: false,
      readOnlyValue: false,
      createdAt: now,
      updatedAt: now,
    };
    this.byName.set(name, def);
    return def;
  }

  /** PATCH: label, description, groupName and options of a custom property. */
  update(name: string, input: unknown): PropertyDefinition {
    const def = this.get(name);
    if (!isRecord(input)) throw validationError('Invalid input JSON: expected an object');
    if (def.hubspotDefined)
      throw validationError(`Property ${name} is defined by HubSpot and cannot be changed`, { name: [name] });
    if (typeof input.label === 'string' && input.label.trim() !== '') def.label = input.label;
    if (typeof input.description === 'string') def.description = input.description;
    if (typeof input.groupName === 'string' && input.groupName.trim() !== '') def.groupName = input.groupName;
    if (input.options !== undefined) def.options = parseOptions(input.options);
    def.updatedAt = new Date().toISOString();
    return def;
  }

  /** Checks the `properties` of a contact write against the definitions and normalises the values. */
  checkWrite(properties: unknown): CheckedWrite {
    const result: CheckedWrite = { values: {}, schemaErrors: [], valueErrors: [] };
    if (properties === undefined) return result;
    if (!isRecord(properties)) {
      result.schemaErrors.push(
        propertyValueError('properties', 'INVALID_INPUT', 'properties must be an object of property names to values'),
      );
      return result;
    }
    for (const [name, raw] of Object.entries(properties)) {
      const def = this.byName.get(name);
      if (!def) {
        result.schemaErrors.push(
          propertyValueError(name, 'PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`),
        );
        continue;
      }
      if (def.readOnlyValue) {
        result.schemaErrors.push(
          propertyValueError(name, 'READ_ONLY_VALUE', `${name} is a read only property; its value cannot be set.`),
        );
        continue;
      }
      if (raw === null || raw === '') {
        result.values[name] = null;
        continue;
      }
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
        result.valueErrors.push(
          propertyValueError(name, 'INVALID_VALUE', `${JSON.stringify(raw)} is not a valid value for ${name}`),
        );
        continue;
      }
      const checked = checkValue(def, String(raw));
      if (typeof checked === 'string') result.values[name] = checked;
      else result.valueErrors.push(checked);
    }
    return result;
  }
}

function parseOptions(raw: unknown): PropertyOption[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((o, i) => ({
    label: String(o.label ?? o.value ?? ''),
    value: String(o.value ?? ''),
    description: typeof o.description === 'string' ? o.description : '',
    displayOrder: typeof o.displayOrder === 'number' ? o.displayOrder : i,
    hidden: o.hidden === true,
  }));
}

/** Returns the normalised value, or the failure. */
function checkValue(def: PropertyDefinition, value: string): string | PropertyValueError {
  if (def.name === 'email') {
    const email = value.trim().toLowerCase();
    return EMAIL_PATTERN.test(email)
      ? email
      : propertyValueError('email', 'INVALID_EMAIL', `Email address ${value} is invalid`);
  }
  switch (def.type) {
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value))
        ? String(Number(value))
        : propertyValueError(def.name, 'INVALID_NUMBER', `${value} was not a valid number.`);
    case 'bool':
      return value === 'true' || value === 'false'
        ? value
        : propertyValueError(def.name, 'INVALID_BOOLEAN', `${value} was not a valid boolean (true or false).`);
    case 'date':
    case 'datetime': {
      const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
      if (!Number.isFinite(ms))
        return propertyValueError(
          def.name,
          'INVALID_DATE',
          `${value} was not a valid date (ISO 8601 or epoch milliseconds).`,
        );
      const iso = new Date(ms).toISOString();
      return def.type === 'date' ? iso.slice(0, 10) : iso;
    }
    case 'enumeration': {
      if (def.options.length === 0) return value;
      const allowed = new Set(def.options.map((o) => o.value));
      // Multi-select (checkbox) values are separated by semicolons.
      const bad = value.split(';').filter((v) => !allowed.has(v));
      return bad.length === 0
        ? value
        : propertyValueError(
            def.name,
            'INVALID_OPTION',
            `${bad.join(';')} was not one of the allowed options: [${[...allowed].join(', ')}]`,
          );
    }
    default:
      return value;
  }
}
