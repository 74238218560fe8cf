// KMS returns ECDSA signatures DER-encoded (SEQUENCE { INTEGER r, INTEGER s }); JWS ES256
// wants the fixed 64-byte r‖s form. Without this every token fails verification.
export function derToJose(der: Uint8Array, size = 32): Buffer {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  let offset = 0;
  const expect = (tag: number) => {
    if (buf[offset++] !== tag) throw new Error('not a DER ECDSA signature');
  };
  const readLength = () => {
    let length = buf[offset++]!;
    if (length & 0x80) {
      const bytes = length & 0x7f;
      length = 0;
      for (let i = 0; i < bytes; i++) length = (length << 8) | buf[offset++]!;
    }
    return length;
  };
  const readInteger = () => {
    expect(0x02);
    const length = readLength();
    let value = buf.subarray(offset, offset + length);
    offset += length;
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if (value.length > size) throw new Error('DER integer too long');
    return Buffer.concat([Buffer.alloc(size - value.length), value]);
  };
  expect(0x30);
  readLength();
  const r = readInteger();
  const s = readInteger();
  if (offset !== buf.length) throw new Error('trailing bytes after DER signature');
  return Buffer.concat([r, s]);
}
