// The vdisk guest: many requests in flight, completed in any order; a flush makes every
// write acknowledged before it durable.
import { joinBus, openVdisk } from 'vbus';

const guest = await joinBus();
const disk = openVdisk(guest, 0);
const block = new Uint8Array(disk.blockSize).map((_, i) => i & 0xff);
// Blocks 1..8 at once (the promises resolve as the device completes them).
await Promise.all(Array.from({ length: 8 }, (_, k) => disk.write((k + 1) * disk.blockSize, block)));
await disk.flush();
const back = await disk.read(disk.blockSize, disk.blockSize);
guest.post({ capacity: disk.capacity, blockSize: disk.blockSize, readBack: back.every((b, i) => b === block[i]) });
disk.close();
guest.exit(0);
