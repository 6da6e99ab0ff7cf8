/**
 * A child process running a Sparkplug decision sink, for the NDEATH-on-kill test: the test kills
 * it with SIGKILL and checks that the broker publishes the NDEATH will with the session's bdSeq.
 *
 * Usage: node --import tsx test/helpers/sparkplug-sink-child.ts <brokerUrl> <groupId> <edgeNodeId> <bdSeqFile>
 * Prints `{"ready":true,"bdSeq":<n>}` once born (NBIRTH + DBIRTH cam0 sent), then idles until killed.
 */
import { SparkplugDecisionSink } from '../../connectors/sinks/sparkplug/sparkplug-sink.js';
import { createLogger } from '../../src/telemetry/logger.js';

const [url, groupId, edgeNodeId, bdSeqFile] = process.argv.slice(2);
if (url === undefined || groupId === undefined || edgeNodeId === undefined || bdSeqFile === undefined) {
  process.stderr.write('usage: sparkplug-sink-child.ts <brokerUrl> <groupId> <edgeNodeId> <bdSeqFile>\n');
  process.exit(2);
}
const sink = new SparkplugDecisionSink({
  url,
  groupId,
  edgeNodeId,
  bdSeqFile,
  cameraIds: ['cam0'],
  modelVersion: 'child-model',
  logger: createLogger({ level: 'silent' }),
});
await sink.connect();
process.stdout.write(`${JSON.stringify({ ready: true, bdSeq: sink.bdSeq })}\n`);
setInterval(() => undefined, 60_000);
