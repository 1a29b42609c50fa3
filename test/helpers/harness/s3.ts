// A fresh bucket with Object Lock for one harness run, on the S3-compatible
// store the environment names (credentials from the standard AWS chain).
import { randomBytes } from 'node:crypto';
import { createS3Client, s3sdk } from '../../../src/exporters/worm/s3.js';

export async function createLockedBucket(endpoint: string, prefix: string): Promise<string> {
  const { CreateBucketCommand } = await s3sdk();
  const client = await createS3Client({ endpoint, forcePathStyle: true });
  const name = `${prefix}-${randomBytes(5).toString('hex')}`;
  try {
    await client.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
  } finally {
    client.destroy();
  }
  return name;
}
