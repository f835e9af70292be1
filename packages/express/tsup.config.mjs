export { default } from '../../scripts/tsup-config.mjs';
