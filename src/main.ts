/** `npm start`: one worker configured from the environment (docs/protocol.md §7). */
import { serve } from './serve.js';

await serve();
