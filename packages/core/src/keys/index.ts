export { KeySpace, EntityKeys, globEscape, hashTagOf, type KeySpaceOptions } from './key-space';
