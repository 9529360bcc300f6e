/** `npm start`: one worker configured from the environment (PROTOCOL.md §7). */
import { serve } from './serve.js';

await serve();
