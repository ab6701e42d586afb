/** Every migration, in order. Listed explicitly so ts-jest and compiled builds load the same classes. */
import { Init1764400000000 } from './1764400000000-init';
import { Auth1764500000000 } from './1764500000000-auth';
import { Analytics1764700000000 } from './1764700000000-analytics';
import { ModelVersions1764800000000 } from './1764800000000-model-versions';
import { TrainingJobs1764900000000 } from './1764900000000-training-jobs';
import { ModelVersionsDeferredActive1765000000000 } from './1765000000000-model-versions-deferred-active';
import { TrainingJobSlots1765100000000 } from './1765100000000-training-job-slots';
import { LabeledMessages1765200000000 } from './1765200000000-labeled-messages';
import { RegionUsers1765300000000 } from './1765300000000-region-users';
import { PublicationPrivacy1765400000000 } from './1765400000000-publication-privacy';
import { RunnerRef1765500000000 } from './1765500000000-runner-ref';
import { ModelStore1765600000000 } from './1765600000000-model-store';
import { Assistant1765700000000 } from './1765700000000-assistant';

export const migrations = [Init1764400000000, Auth1764500000000, Analytics1764700000000, ModelVersions1764800000000, TrainingJobs1764900000000, ModelVersionsDeferredActive1765000000000, TrainingJobSlots1765100000000, LabeledMessages1765200000000, RegionUsers1765300000000, PublicationPrivacy1765400000000, RunnerRef1765500000000, ModelStore1765600000000, Assistant1765700000000];
