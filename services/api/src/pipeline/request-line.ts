import pino, { type Logger } from 'pino';

/** Writes the log line of a request that went well (below 500, no error). */
export type RequestLineWriter = (id: string, method: string, url: string, status: number, responseTime: number) => void;

interface PinoInternals {
  [key: symbol]: unknown;
}

/**
 * pino's ISO time field, `,"time":"..."`, made once per millisecond (under load many lines
 * share one) where `pino.stdTimeFunctions.isoTime` made a Date and its text for every line.
 */
export function cachedIsoTime(): () => string {
  let at = NaN;
  let field = '';
  return () => {
    const now = Date.now();
    if (now !== at) {
      at = now;
      field = `,"time":"${new Date(now).toISOString()}"`;
    }
    return field;
  };
}

/**
 * The line pino writes for `logger.info({ req: { id, method, url }, res: { statusCode },
 * responseTime }, 'request completed')`, written by hand into the logger's own stream with
 * its own level, time and bindings. That call is made for every request, and pino's generic
 * path (a key-sorting safe stringify of each nested object) was the largest part of the
 * request's own logging cost on /predict. Returns undefined for a logger that would write the
 * line differently (a mixin, formatters, hooks, other keys or serializers for those fields):
 * the caller then logs through pino. `request-line.test.ts` holds the text to pino's.
 */
export function requestLineWriter(logger: Logger): RequestLineWriter | undefined {
  const s = pino.symbols;
  const l = logger as unknown as PinoInternals;
  const formatters = l[s.formattersSym] as { log?: unknown; bindings?: unknown } | undefined;
  const hooks = l[s.hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
  const serializers = (l[s.serializersSym] ?? {}) as Record<string, unknown>;
  const stream = l[s.streamSym] as { write(line: string): unknown; [key: symbol]: unknown } | undefined;
  const levelPrefix = (l[s.lsCacheSym] as Record<number, string> | undefined)?.[logger.levels.values.info as number];
  const time = l[s.timeSym] as (() => string) | undefined;
  const end = l[s.endSym];
  if (
    l[s.mixinSym] ||
    formatters?.log ||
    hooks?.logMethod ||
    hooks?.streamWrite ||
    serializers.req ||
    serializers.res ||
    serializers.responseTime ||
    l[s.messageKeySym] !== 'msg' ||
    !stream ||
    typeof stream.write !== 'function' ||
    // A multistream wants each line's level and object alongside it.
    stream[s.needsMetadataGsym] === true ||
    typeof levelPrefix !== 'string' ||
    typeof time !== 'function' ||
    typeof end !== 'string'
  ) {
    return undefined;
  }
  const info = logger.levels.values.info as number;
  return (id, method, url, status, responseTime) => {
    // The level is read for each line: it can be changed on a running logger.
    if (logger.levelVal > info) return;
    const chindings = l[s.chindingsSym] as string;
    stream.write(
      `${levelPrefix}${time.call(logger)}${chindings},"req":{"id":${JSON.stringify(id)},"method":${JSON.stringify(method)},"url":${JSON.stringify(url)}},"res":{"statusCode":${status}},"responseTime":${responseTime},"msg":"request completed"${end}`,
    );
  };
}
