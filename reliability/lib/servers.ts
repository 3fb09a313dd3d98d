// src/stores/redis-replicas.test.ts imports findBinary from here; the private servers now live in
// tools/services.ts. Remove this file once that test imports tools/services.js.
export { findBinary } from '../../tools/services.js';
