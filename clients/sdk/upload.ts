// Sending a local file to a presigned PUT URL (from the stageUpload workflow) and hashing it on
// the way, so the ingest can check that S3 received exactly these bytes. A plain HTTP PUT with a
// Content-Length: S3 refuses chunked uploads without one, and a stream keeps memory flat.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface SentFile {
  size: number;
  sha256: string;
}

export async function putFile(url: string, file: string): Promise<SentFile> {
  const { size } = await stat(file);
  const hash = createHash('sha256');
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const req = send(target, { method: 'PUT', headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' } });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(file), hashing, req);
  const { status, body } = await response;
  // S3 errors are XML; the code says enough (the URL, which carries a signature, is not repeated).
  if (status !== 200) throw new Error(`upload refused by the object store (HTTP ${status}${/<Code>([^<]+)<\/Code>/.exec(body)?.[1] ? `, ${/<Code>([^<]+)<\/Code>/.exec(body)![1]}` : ''})`);
  return { size, sha256: hash.digest('hex') };
}
