ALTER TABLE checkpoints ADD COLUMN cosigned_at TEXT;
