import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gunzipSync, gzipSync } from 'node:zlib';
import { batchKeys, chainPrefix, fromJsonLines, toJsonLines } from '../../core/audit-archive';
import type { ArchiveBatch, ArchivedObject, BatchDigest } from '../../ports/audit-archive';
import { DependencyUnavailableError } from '../../core/errors';
import type { AuditArchive } from '../../ports/audit-archive';

/**
 * Audit batches in an S3 bucket with Object Lock (compliance mode, default retention set
 * on the bucket): `<prefix>.jsonl.gz` holds the events, `<prefix>.digest.json` the signed
 * digest. Writing the same key again adds a version; the locked first one stays, and it is
 * the one read back.
 */
export class S3AuditArchive implements AuditArchive {
  constructor(private readonly s3: S3Client, private readonly bucket: string) {}

  async putBatch(batch: ArchiveBatch, digest: BatchDigest): Promise<void> {
    const keys = batchKeys(batch.chain, batch.day, digest.firstSeq, digest.lastSeq);
    // The digest goes first: an events object is never without its signed digest, even when
    // the second put fails and the re-ship covers another range. A digest whose events never
    // arrived names no object and is ignored.
    await this.put(keys.digest, JSON.stringify(digest), { ContentType: 'application/json' });
    await this.put(keys.events, gzipSync(toJsonLines(batch.events)), { ContentType: 'application/x-ndjson', ContentEncoding: 'gzip' });
  }

  private async put(key: string, body: string | Uint8Array, headers: { ContentType: string; ContentEncoding?: string }): Promise<void> {
    // Object Lock needs an integrity checksum on every PUT.
    await s3(() => this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ChecksumAlgorithm: 'SHA256', ...headers })));
  }

  /**
   * Reads the *first* version of every object: Object Lock keeps it unchangeable, while a
   * later PUT to the same key (a re-ship, or someone with PutObject) only adds versions.
   */
  async readChain(chain: string): Promise<ArchivedObject[]> {
    const firstVersion = new Map<string, string>();
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await s3(() =>
        this.s3.send(
          new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: chainPrefix(chain), KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
        ),
      );
      // S3 lists each key's versions newest first: the last one seen is the oldest.
      for (const version of page.Versions ?? []) if (version.Key && version.VersionId) firstVersion.set(version.Key, version.VersionId);
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);

    const objects: ArchivedObject[] = [];
    for (const [key, versionId] of firstVersion) {
      if (!key.endsWith('.jsonl.gz')) continue;
      const events = fromJsonLines(gunzipSync(await this.read(key, versionId)).toString('utf8'));
      const digestKey = key.replace(/\.jsonl\.gz$/, '.digest.json');
      const digestVersion = firstVersion.get(digestKey);
      const digest = digestVersion ? (JSON.parse(Buffer.from(await this.read(digestKey, digestVersion)).toString('utf8')) as BatchDigest) : undefined;
      objects.push({ key, events, ...(digest ? { digest } : {}) });
    }
    return objects;
  }

  private async read(key: string, versionId: string): Promise<Uint8Array> {
    const object = await s3(() => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId })));
    return object.Body!.transformToByteArray();
  }
}

async function s3<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new DependencyUnavailableError('s3', { cause: error });
  }
}
