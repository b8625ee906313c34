import { boot } from './boot';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
// The host is asked for the session (and a large topology starts parsing in a
// worker) while the shell's code loads; the shell reports a failed start itself.
const booting = boot();
booting.catch(() => {});
void import('./shell').then((s) => s.startShell(target, booting));
