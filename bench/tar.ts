/**
 * A minimal ustar writer: enough for `docker import` of a one-file image, so a benchmark can make
 * thousands of distinct images without a build (each tar has distinct content, hence a distinct layer
 * and image id).
 */
export function tinyTar(files: ReadonlyArray<{ name: string; content: Buffer | string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const data = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content);
    blocks.push(header(f.name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100); // mode
  h.write('0000000\0', 108); // uid
  h.write('0000000\0', 116); // gid
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('13602760400\0', 136); // mtime: 2020-01-01, fixed so equal content gives equal layers
  h.write('        ', 148); // checksum placeholder: spaces while summing
  h.write('0', 156); // regular file
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}
