import { sha256Canonical } from '@ct/core';
import { z } from 'zod';
import { ArtifactError } from './artifact-error';
import { readExisting, storeKey, type ArtifactStore } from './artifact-store';
import { parseSealed, sealedText } from './sealed';

const hash = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * A list of segment hashes as stored in version data and history entries: the hash of its
 * last node and how many hashes it holds. Lists grow by one batch per accepted job; stored
 * whole in every record, they made each job's writes grow with the history (280 KB a job
 * after 1,000 accepted jobs). Stored as a chain of small nodes, a job writes one node.
 */
export const segmentListSchema = z.strictObject({ head: hash.nullable(), count: z.number().int().nonnegative() });

/** A stored list of segment hashes (see {@link segmentListSchema}). */
export type SegmentListRef = z.infer<typeof segmentListSchema>;

/** The empty list. */
export const EMPTY_LIST: SegmentListRef = Object.freeze({ head: null, count: 0 });

/** Hashes a node holds before a new node starts: bounds what one append writes (about 4 KB). */
const NODE_ITEMS = 64;

const nodeSchema = z.strictObject({ parent: hash.nullable(), items: z.array(hash).min(1).max(NODE_ITEMS) });
type ListNode = z.infer<typeof nodeSchema>;

/**
 * Lists of segment hashes as content-addressed nodes `lists/<hash>.json`, each holding up to
 * 64 hashes and its parent's hash. Appending writes one new node (the last one, extended, or
 * a fresh one after a full one), never the whole list; nodes never change, so the ones read
 * are kept in memory and a list is read by walking from its head.
 */
export class SegmentLists {
  private readonly cache = new Map<string, ListNode>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly prefix: string,
  ) {}

  private key(h: string): string {
    return storeKey(this.prefix, `${h}.json`);
  }

  private async node(h: string): Promise<ListNode> {
    const hit = this.cache.get(h);
    if (hit) return hit;
    const path = this.store.locate(this.key(h));
    const node = parseSealed(path, await readExisting(this.store, this.key(h)), 'segment_list', nodeSchema);
    if (sha256Canonical(node) !== h) throw new ArtifactError('checksum_mismatch', path, "the node does not match its name's hash");
    this.cache.set(h, node);
    return node;
  }

  private async put(node: ListNode): Promise<string> {
    const h = sha256Canonical(node);
    if (!this.cache.has(h)) {
      // Taken means the same node was written before: content-addressed, so it is equal.
      await this.store.createExclusive(this.key(h), sealedText('segment_list', node));
      this.cache.set(h, node);
    }
    return h;
  }

  /** `list` followed by `items` (at most 64 at a time, one batch's hashes in practice). */
  async append(list: SegmentListRef, items: readonly string[]): Promise<SegmentListRef> {
    if (items.length === 0) return list;
    if (items.length > NODE_ITEMS) throw new RangeError(`at most ${NODE_ITEMS} items per append`);
    let node: ListNode = { parent: list.head, items: [...items] };
    if (list.head !== null) {
      const last = await this.node(list.head);
      if (last.items.length + items.length <= NODE_ITEMS) node = { parent: last.parent, items: [...last.items, ...items] };
    }
    return { head: await this.put(node), count: list.count + items.length };
  }

  /** The hashes of `list`, oldest first. */
  async items(list: SegmentListRef): Promise<string[]> {
    const chunks: string[][] = [];
    for (let h = list.head; h !== null; ) {
      const node = await this.node(h);
      chunks.push(node.items);
      h = node.parent;
    }
    const out = chunks.reverse().flat();
    if (out.length !== list.count) throw new ArtifactError('inconsistent', this.store.locate(this.key(list.head ?? '')), `the list holds ${out.length} segments, its reference says ${list.count}`);
    return out;
  }
}
