/** The one task queue flowpanel's worker polls. Never type the name anywhere else. */
export const MAIN_TASK_QUEUE = 'flowpanel'
