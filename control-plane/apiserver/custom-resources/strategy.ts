import { ApiError, valueAtPath } from '../../../apimachinery/index.ts';
import type { Obj, ScaleInfo, Strategy, TableColumn } from '../resource-info.ts';
import { age } from '../resources/age.ts';
import { NAME_COLUMN } from '../resources/columns.ts';
import type { CrdVersion } from '../resources/custom-resource-definitions.ts';
import { celViolations } from './cel-rules.ts';
import { applyDefaults } from './defaulting.ts';
import { validateSchema, type JsonSchema } from './validation.ts';

// How the server treats the objects of one custom resource version: defaulted
// and checked from the version's schema (its CEL rules too), selected by its
// selectableFields, shown with its additionalPrinterColumns, scaled through
// the paths its scale subresource names. Validation sees metadata only as far
// as a schema may constrain it (name, generateName): the registry checks the
// rest of it for every kind.

const COLUMN_TYPES = new Set<TableColumn['type']>(['integer', 'number', 'string', 'boolean', 'date']);

/** `terminating`: whether the definition is being deleted (its resource then takes no creates) */
export function customResourceStrategy(version: CrdVersion, terminating: () => boolean = () => false): Strategy {
  const schema = (version.schema?.openAPIV3Schema ?? {}) as JsonSchema;
  const printed = version.additionalPrinterColumns ?? [];
  // the schema sees metadata as far as it may constrain it (name and generateName), as upstream's validator does
  const body = ({ metadata, ...rest }: Obj) => ({
    ...rest,
    metadata: { ...(metadata.name !== undefined ? { name: metadata.name } : {}), ...(metadata.generateName ? { generateName: metadata.generateName } : {}) },
  });
  // CEL rules are evaluated on objects the schema accepts (as upstream, they assume its types)
  const validate = (obj: Obj, old: Obj | undefined) => {
    const value = body(obj);
    const causes = validateSchema(schema, value, '');
    return causes.length > 0 ? causes : celViolations(schema, value, old && body(old), '');
  };
  const strategy: Strategy = {
    defaults: (obj: Obj) => applyDefaults(schema, obj),
    prepareForCreate: () => {
      if (terminating()) throw new ApiError('MethodNotAllowed', 'create not allowed while custom resource definition is terminating');
    },
    selectableFields: (version.selectableFields ?? []).map((f) => f.jsonPath.replace(/^\./, '')),
    validate: (obj: Obj) => validate(obj, undefined),
    validateUpdate: (obj: Obj, old: Obj) => validate(obj, old),
  };
  if (printed.length > 0) {
    strategy.columns = [
      NAME_COLUMN,
      ...printed.map((c) => ({
        name: c.name,
        type: COLUMN_TYPES.has(c.type as TableColumn['type']) ? (c.type as TableColumn['type']) : 'string',
        ...(c.format ? { format: c.format } : {}),
        description: c.description ?? '',
        priority: c.priority ?? 0,
      })),
    ];
    strategy.cells = (obj: Obj) => [
      obj.metadata.name,
      ...printed.map((c) => {
        const v = valueAtPath(obj, c.jsonPath);
        // dates are shown as ages, as for built-in kinds
        if (c.type === 'date' && typeof v === 'string') return age(v);
        return v !== null && typeof v === 'object' ? JSON.stringify(v) : (v ?? null);
      }),
    ];
  }
  return strategy;
}

export function customResourceScale(version: CrdVersion): ScaleInfo | undefined {
  const scale = version.subresources?.scale;
  if (!scale) return undefined;
  return {
    specReplicasPath: scale.specReplicasPath.replace(/^\./, ''),
    statusReplicasPath: scale.statusReplicasPath.replace(/^\./, ''),
    selector: (obj) => (scale.labelSelectorPath ? (valueAtPath(obj, scale.labelSelectorPath) as string | undefined) : undefined),
  };
}
