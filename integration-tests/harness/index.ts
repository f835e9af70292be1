export { ADAPTERS, type AdapterName } from './adapters';
export { makeController, createNestApp, type NestRouteSpec } from './nest';
