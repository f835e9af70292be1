export {
  assertKnownOptions,
  optNumber,
  optString,
  optBoolean,
  optEnum,
  optFunction,
  invalidOption,
  type NumberRule,
} from './validate';
export { Advisories, type ValidationsOption } from './advisories';
