import type { EventMetadata } from '../../streams/eventstore/index.ts';

/** What one SSE message of the feed carries in its `data:` line, as JSON. */
export interface FeedMessage {
  streamId: string;
  revision: number;
  position: number;
  type: string;
  /** null only when the event's data could not be read (then `dataError` says why). */
  data: Record<string, unknown> | null;
  metadata: EventMetadata;
  /** Set when the stored data could not be decoded (e.g. NC_CIPHERTEXT_INVALID): the event is still delivered, in order. */
  dataError?: { code: string };
}

/**
 * `id: <position>`, `event: <type>`, `data: <JSON>` and the blank line that ends
 * the message. JSON.stringify escapes line breaks, so the data is one line.
 */
export const eventFrame = (message: FeedMessage): string =>
  `id: ${message.position}\nevent: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`;

/** An SSE comment (`: text`): ignored by clients, it keeps proxies from closing an idle connection. */
export const commentFrame = (text: string): string => `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;

export const HEARTBEAT = commentFrame('ping');
