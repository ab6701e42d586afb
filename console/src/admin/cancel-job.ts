/** Cancelling a fine-tuning job (the jobs table's and the job details' Cancel buttons). */
import { gql } from '../api';

const CANCEL = `mutation CancelTrainingJob($id: ID!) { cancelTrainingJob(id: $id) { id status cancelRequested } }`;

/** Asks the server to cancel job `id`; answers the outcome to show beside the button. */
export async function cancelJob(id: string): Promise<string> {
  const d = await gql<{ cancelTrainingJob: { status: string } }>(CANCEL, { id });
  return d.cancelTrainingJob.status === 'CANCELLED' ? `Job #${id} cancelled.` : `Cancel requested: job #${id} stops at its next check.`;
}
