// Runs in a worker thread so the ~30 MB of generated model classes are read
// once and then freed with the thread; only the schemas come back.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import { readModelDocs } from './model-docs.ts';
import { buildModelSchemas, type GroupVersionKind } from './model-schemas.ts';

const modelsDir = dirname(fileURLToPath(import.meta.resolve('@kubernetes/client-node/dist/gen/models/all.js')));
parentPort?.postMessage(buildModelSchemas(models as Record<string, unknown>, workerData as GroupVersionKind[], (cls) => readModelDocs(modelsDir, cls)));
