import { parseArgs } from 'node:util';
import { isNovaCronError } from '../streams/errors/index.ts';
import { loadConfig } from './config.ts';
import { openPlatform } from './platform.ts';

const usage = `usage: novacron <command>

commands:
  start     open the embedded event store and report what is ready
  help      this text`;

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false });
  const command = positionals[0] ?? 'help';
  switch (command) {
    case 'start': {
      const config = loadConfig();
      const platform = openPlatform(config);
      const head = await platform.store.headPosition();
      console.log(`NovaCron event store ready: ${config.dataDir}/events.db (sync=${config.sqliteSync}), ${head} events, ${platform.catalog.types.length} event types in the catalog`);
      console.log('The HTTP API is not built yet; see the README for what is ready.');
      await platform.close();
      return 0;
    }
    case 'help':
    case '--help':
      console.log(usage);
      return 0;
    default:
      console.error(`unknown command ${JSON.stringify(command)}\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(isNovaCronError(error) ? `novacron: ${error.code}: ${error.message}` : error);
    process.exit(1);
  },
);
