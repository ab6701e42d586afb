/** Input size limits shared by the catalog services. */
export const MAX_UPSERT_BATCH = 250;
export const MAX_ID_LENGTH = 200;
export const MAX_NAME_LENGTH = 500;
export const MAX_TEXT_LENGTH = 10_000;
