// Entry of the load generator process (one per run, separate from every contender).
import { autocannonLoad, builtinLoad } from './load.mjs';
import { serve } from './procs.mjs';

serve({
  load: (msg) => (msg.engine === 'builtin' ? builtinLoad(msg) : autocannonLoad(msg)),
});
