/** The bare reader (bench/raw-events.ts): prints `open`, then `key<TAB>latency ms` per event. */
import http from 'node:http';

const socketPath = process.argv[2] as string;
const out: string[] = [];
const flush = () => {
  if (out.length) process.stdout.write(`${out.splice(0).join('\n')}\n`);
};
http
  .get({ socketPath, path: '/v1.41/events' }, (res) => {
    process.stdout.write('open\n');
    let rest = '';
    res.on('data', (chunk: Buffer) => {
      const at = performance.timeOrigin + performance.now();
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const nano = /"timeNano":(\d+)/.exec(line)?.[1];
        if (!nano) continue;
        const e = JSON.parse(line) as { Type: string; Action: string; Actor: { ID: string } };
        out.push(`${nano}|${e.Type}|${e.Action}|${e.Actor.ID}\t${at - Number(nano.slice(0, -3)) / 1000}`);
      }
      setImmediate(flush);
    });
  })
  .on('error', (err) => {
    process.stderr.write(`raw events reader: ${err.message}\n`);
    process.exitCode = 1;
  });
