/**
 * The little of the WebAssembly binary format that core's hand-written kernels need: a code
 * builder for function bodies and a module of functions over one imported memory. Written
 * here rather than taken from a toolchain because the kernels are a few dozen instructions,
 * generated from parameters (tile sizes), and the package has no build step besides tsc.
 * Opcodes are those of the WebAssembly 2.0 core specification (fixed-width SIMD included).
 */

/** Value types, by their binary encoding. */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof F64 | typeof V128;

/** Unsigned LEB128, as the format encodes counts, sizes, indices and SIMD opcodes. */
function uleb(value: number, out: number[]): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

/** Signed LEB128 of a 32-bit integer (`i32.const`). */
function sleb(value: number, out: number[]): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** A name of ASCII characters (all this module writes), length first. */
function name(text: string, out: number[]): void {
  uleb(text.length, out);
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i));
}

/**
 * A function body under construction. Each method appends one instruction; `align` of memory
 * accesses is log2 of the alignment promised (a hint: misaligned accesses stay correct).
 */
export class Code {
  readonly bytes: number[] = [];

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }

  private simd(opcode: number): this {
    this.bytes.push(0xfd);
    uleb(opcode, this.bytes);
    return this;
  }

  private memarg(align: number, offset: number): this {
    uleb(align, this.bytes);
    uleb(offset, this.bytes);
    return this;
  }

  get(local: number): this {
    this.op(0x20);
    uleb(local, this.bytes);
    return this;
  }

  set(local: number): this {
    this.op(0x21);
    uleb(local, this.bytes);
    return this;
  }

  tee(local: number): this {
    this.op(0x22);
    uleb(local, this.bytes);
    return this;
  }

  i32(value: number): this {
    this.op(0x41);
    sleb(value, this.bytes);
    return this;
  }

  /** `block` with no result: `br` to it jumps past its `end`. */
  block(): this {
    return this.op(0x02, 0x40);
  }

  /** `loop` with no result: `br` to it jumps back to its start. */
  loop(): this {
    return this.op(0x03, 0x40);
  }

  /** `if` with no result, on the i32 on the stack. */
  if(): this {
    return this.op(0x04, 0x40);
  }

  end(): this {
    return this.op(0x0b);
  }

  br(depth: number): this {
    this.op(0x0c);
    uleb(depth, this.bytes);
    return this;
  }

  brIf(depth: number): this {
    this.op(0x0d);
    uleb(depth, this.bytes);
    return this;
  }

  i32Eqz(): this {
    return this.op(0x45);
  }

  i32Add(): this {
    return this.op(0x6a);
  }

  i32Sub(): this {
    return this.op(0x6b);
  }

  i32Mul(): this {
    return this.op(0x6c);
  }

  i32Store(offset: number): this {
    return this.op(0x36).memarg(2, offset);
  }

  f64Load(offset: number): this {
    return this.op(0x2b).memarg(3, offset);
  }

  f64Store(offset: number): this {
    return this.op(0x39).memarg(3, offset);
  }

  f64Lt(): this {
    return this.op(0x63);
  }

  v128Load(offset: number, align = 4): this {
    return this.simd(0x00).memarg(align, offset);
  }

  v128Store(offset: number, align = 4): this {
    return this.simd(0x0b).memarg(align, offset);
  }

  /** Loads one f64 into both lanes. */
  v128Load64Splat(offset: number): this {
    return this.simd(0x0a).memarg(3, offset);
  }

  v128Or(): this {
    return this.simd(0x50);
  }

  v128AnyTrue(): this {
    return this.simd(0x53);
  }

  f64x2Lt(): this {
    return this.simd(0x49);
  }

  f64x2Add(): this {
    return this.simd(0xf0);
  }

  f64x2Mul(): this {
    return this.simd(0xf2);
  }
}

/** One exported function of a {@link wasmModule}. */
export interface WasmFunction {
  name: string;
  params: ValueType[];
  results: ValueType[];
  /** Extra locals, numbered after the params. */
  locals: ValueType[];
  body: Code;
}

function section(id: number, content: number[], out: number[]): void {
  out.push(id);
  uleb(content.length, out);
  out.push(...content);
}

/** A module importing one memory as `env.memory` and exporting `functions` under their names. */
export function wasmModule(functions: WasmFunction[]): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(functions.length, types);
  for (const f of functions) {
    types.push(0x60);
    uleb(f.params.length, types);
    types.push(...f.params);
    uleb(f.results.length, types);
    types.push(...f.results);
  }
  section(1, types, out);
  const imports: number[] = [1];
  name('env', imports);
  name('memory', imports);
  imports.push(0x02, 0x00, 0x01);
  section(2, imports, out);
  const decls: number[] = [];
  uleb(functions.length, decls);
  functions.forEach((_, i) => uleb(i, decls));
  section(3, decls, out);
  const exports: number[] = [];
  uleb(functions.length, exports);
  functions.forEach((f, i) => {
    name(f.name, exports);
    exports.push(0x00);
    uleb(i, exports);
  });
  section(7, exports, out);
  const codes: number[] = [];
  uleb(functions.length, codes);
  for (const f of functions) {
    const body: number[] = [];
    // Locals as runs of one type, in order.
    const runs: [number, ValueType][] = [];
    for (const t of f.locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    uleb(runs.length, body);
    for (const [count, t] of runs) {
      uleb(count, body);
      body.push(t);
    }
    body.push(...f.body.bytes, 0x0b);
    uleb(body.length, codes);
    codes.push(...body);
  }
  section(10, codes, out);
  return Uint8Array.from(out);
}
