/**
 * GraphQL explorer (admin and frontend keys), like Hasura's console: GraphiQL with the entered key,
 * its docs and autocomplete from the checked-in schema (the server may have introspection off).
 * GraphiQL and React load with this page only (a separate chunk).
 */
import '../admin/admin.css';
import { h, message, showError } from '../dom';
import type { Viewer } from '../viewer';

/** What a first visit shows: a comment first, so the console's build does not take it for one of its operations. */
const FIRST_QUERY: Record<string, string> = {
  ADMIN: `# The explorer sends every request with the key you entered above.
# Docs (the book icon) and autocomplete (Ctrl+Space) come from the checked-in schema.
# Run with Ctrl+Enter or the ▶ button.
query Me {
  viewer { role name userId }
  dataExtent { from to }
}
`,
  FRONTEND: `# The explorer sends every request with the key you entered above (a frontend key: one user's data).
# Docs (the book icon) and autocomplete (Ctrl+Space) come from the checked-in schema.
# Run with Ctrl+Enter or the ▶ button.
query Me {
  viewer { role name userId }
}
`,
};

export function explorerPage(root: HTMLElement, viewer: Viewer): () => void {
  const box = h('div', { class: 'explorer-box', id: 'explorer' }, message('info', 'Loading the explorer…'));
  root.replaceChildren(
    h('h2', {}, 'GraphQL explorer'),
    h('p', { class: 'explorer-note' }, `Requests run as this ${viewer.role.toLowerCase()} key (${viewer.name}); what it may not see is refused as in any client. The schema comes with the console, so its docs work even where the server turns introspection off.`),
    box,
  );
  let left = false;
  let unmount: (() => void) | null = null;
  import('../admin/explorer-app')
    .then(({ mountExplorer }) => {
      if (left) return;
      box.replaceChildren();
      const mounted = mountExplorer(box, FIRST_QUERY[viewer.role] ?? FIRST_QUERY.FRONTEND!);
      unmount = () => mounted.unmount();
    })
    .catch((err: unknown) => {
      if (!left) showError(box, err);
    });
  return () => {
    left = true;
    unmount?.();
  };
}
