export { ADAPTERS, type AdapterName } from './adapters';
export { makeController, createNestApp, type NestRouteSpec } from './nest';
export { bundleWorker, runWorkers, startWorker, type WorkerResult } from './processes';
