/** Writes one audit-log entry per root field of every mutation, with its outcome. */
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, OperationTypeNode } from 'graphql';
import type { AuditService } from '../../auth/audit.service';
import { summarizeArgs } from '../../auth/audit.service';
import type { Logger } from '../../common/logger';
import type { Context } from '../context';

/** Mutations too frequent and too bulky to audit one by one (they are counted in /metrics); a customer's messages are stored as conversation turns, not copied into the audit log. */
const NOT_AUDITED = new Set(['ingestEvents', 'sendMessage']);

export function auditPlugin(audit: AuditService, logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ operation, request, contextValue, response }) {
          if (!operation || operation.operation !== OperationTypeNode.MUTATION) return;
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const errors = body?.errors ?? [];
          for (const sel of operation.selectionSet.selections) {
            if (sel.kind !== Kind.FIELD || NOT_AUDITED.has(sel.name.value)) continue;
            const key = sel.alias?.value ?? sel.name.value;
            const failed = errors.find((e) => e.path?.[0] === key);
            const args: Record<string, unknown> = {};
            for (const a of sel.arguments ?? []) {
              args[a.name.value] = a.value.kind === Kind.VARIABLE ? request.variables?.[a.value.name.value] : '(literal)';
            }
            try {
              await audit.record(
                contextValue.principal,
                sel.name.value,
                typeof args.id === 'string' ? args.id : null,
                { args: summarizeArgs(args), outcome: failed ? `error: ${typeof failed.extensions?.code === 'string' ? failed.extensions.code : 'ERROR'}` : 'ok' },
                contextValue.requestId,
              );
            } catch (err) {
              logger.error({ err, action: sel.name.value }, 'audit log write failed');
            }
          }
        },
      };
    },
  };
}
