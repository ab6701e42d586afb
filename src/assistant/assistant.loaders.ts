/** Per-request DataLoaders of the assistant: the turns of the conversations one request lists, in one query per `last`. */
import type DataLoader from 'dataloader';
import { byKeyLoader, perArgument } from '../graphql/loader-utils';
import type { TurnData } from './conversation.repository';
import type { ConversationService } from './conversation.service';

export interface AssistantLoaders {
  readonly conversationTurns: (last: number) => DataLoader<string, TurnData[]>;
}

export function createAssistantLoaders(s: { conversations: ConversationService }): AssistantLoaders {
  return { conversationTurns: perArgument((last: number) => byKeyLoader((ids) => s.conversations.turns(ids, last))) };
}
