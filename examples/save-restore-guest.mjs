// The guest of examples/save-restore.mjs: a program that keeps its state serialisable.
// It counts entropy reads; on save it hands the count over, on resume it goes on from it.
import { joinBus, openRng } from 'vbus';

const guest = await joinBus();
const st = guest.resumed ?? { ticks: 0 };                // what onSave returned, on a restored run
const from = st.ticks;
const rng = openRng(guest, 0);
let stopping = false;
const loop = (async () => {
  while (!stopping) {
    await rng.read(16);
    st.ticks++;
    if (guest.resumed && st.ticks === from + 5) guest.post({ resumedFrom: from, ticks: st.ticks });
    await new Promise((r) => setTimeout(r, 5));
  }
})();
guest.onQuiesce(async () => { stopping = true; await loop; }); // step 1: no new work, wait for what is in flight
guest.onSave(() => st);                                   // step 2: hand over the state
