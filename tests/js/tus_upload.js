// Upload one file with tus-js-client (Node), as Uppy's tus plugin would, and print the outcome
// as JSON: node tus_upload.js <tus_link> <file> <chunkSize> <metadata JSON> [abortAfterBytes]
// With abortAfterBytes, the upload is aborted once that many bytes are acknowledged and then
// resumed with a fresh Upload on the same URL (tus-js-client's own resume path).
"use strict";
const fs = require("fs");
const tus = require("tus-js-client");

const [endpoint, path, chunkSize, metaJson, abortAfter] = process.argv.slice(2);
const size = fs.statSync(path).size;

function start(uploadUrl) {
  return new Promise((resolve, reject) => {
    let aborted = false;
    const upload = new tus.Upload(fs.createReadStream(path), {
      endpoint,
      uploadUrl,
      uploadSize: size,
      chunkSize: Number(chunkSize),
      metadata: JSON.parse(metaJson),
      retryDelays: [0, 200, 500],
      onProgress: (sent) => {},
      onChunkComplete: (chunk, accepted) => {
        if (abortAfter && !aborted && !uploadUrl && accepted >= Number(abortAfter)) {
          aborted = true;
          upload.abort().then(() => resolve({ aborted: true, url: upload.url, accepted }));
        }
      },
      onError: reject,
      onSuccess: (payload) => {
        const response = payload && payload.lastResponse;
        resolve({ url: upload.url, result: response ? response.getHeader("Atoll-Upload-Result") : null });
      },
    });
    upload.start();
  });
}

(async () => {
  let outcome = await start(null);
  const first = outcome;
  if (outcome.aborted) {
    outcome = await start(outcome.url);
  }
  process.stdout.write(JSON.stringify({ first, final: outcome }) + "\n");
})().catch((err) => {
  process.stderr.write(String(err) + "\n");
  process.exit(1);
});
