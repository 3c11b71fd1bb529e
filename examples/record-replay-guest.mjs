// The guest of examples/record-replay.mjs: reads 32 random bytes 10 times, then exits.
import { joinBus, openRng } from 'vbus';

const guest = await joinBus();
const rng = openRng(guest, 0);
for (let i = 0; i < 10; i++) await rng.read(32);
guest.exit(0);
