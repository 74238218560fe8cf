import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gunzipSync, gzipSync } from 'node:zlib';
import { batchKeys, chainPrefix, fromJsonLines, toJsonLines, type ArchiveBatch, type ArchivedObject, type BatchDigest } from '../../core/audit-archive';
import { DependencyUnavailableError } from '../../core/errors';
import type { AuditArchive } from '../../ports/audit-archive';

/**
 * Audit batches in an S3 bucket with Object Lock (compliance mode, default retention set
 * on the bucket): `<prefix>.jsonl.gz` holds the events, `<prefix>.digest.json` the signed
 * digest. Writing the same key again adds a version; the locked first one stays.
 */
export class S3AuditArchive implements AuditArchive {
  constructor(private readonly s3: S3Client, private readonly bucket: string) {}

  async putBatch(batch: ArchiveBatch, digest: BatchDigest): Promise<void> {
    const keys = batchKeys(batch.chain, batch.day, digest.firstSeq, digest.lastSeq);
    const body = gzipSync(toJsonLines(batch.events));
    await s3(() =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: keys.events,
          Body: body,
          ContentType: 'application/x-ndjson',
          ContentEncoding: 'gzip',
          // Object Lock needs an integrity checksum on every PUT.
          ChecksumAlgorithm: 'SHA256',
        }),
      ),
    );
    // The digest goes second: a digest never names events that are not there.
    await s3(() =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: keys.digest,
          Body: JSON.stringify(digest),
          ContentType: 'application/json',
          ChecksumAlgorithm: 'SHA256',
        }),
      ),
    );
  }

  async readChain(chain: string): Promise<ArchivedObject[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3(() =>
        this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: chainPrefix(chain), ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.NextContinuationToken;
    } while (token);

    const digests = new Set(keys.filter((key) => key.endsWith('.digest.json')));
    const objects: ArchivedObject[] = [];
    for (const key of keys.filter((k) => k.endsWith('.jsonl.gz'))) {
      const events = fromJsonLines(gunzipSync(await this.read(key)).toString('utf8'));
      const digestKey = key.replace(/\.jsonl\.gz$/, '.digest.json');
      const digest = digests.has(digestKey) ? (JSON.parse(Buffer.from(await this.read(digestKey)).toString('utf8')) as BatchDigest) : undefined;
      objects.push({ key, events, ...(digest ? { digest } : {}) });
    }
    return objects;
  }

  private async read(key: string): Promise<Uint8Array> {
    const object = await s3(() => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
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
