export * from './errors';
export * from './events';
export * from './keys';
export * from './options';
export * from './redis';
export { LUA, type LuaSource } from './generated/lua';
