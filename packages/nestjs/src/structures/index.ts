export { StructuresService } from './structures.service';
