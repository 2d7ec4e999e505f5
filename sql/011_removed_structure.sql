-- Removing an empty region, municipality, school or class (issue 19, the admin console). The row stays, with the
-- moment it was removed, as a removed person's does: chats, their history, moderation reports and removed people still
-- reference it by foreign key, and the weekly rating counts a school, municipality or region in the weeks it existed
-- ("Past weeks are frozen", docs/rating.md), so a finished week reads the same after a removal. A removed unit is left
-- out of listings, look-ups and the rating of every week from its removal on; its chats are archived (sql/008).
ALTER TABLE regions ADD COLUMN removed_at timestamptz;
ALTER TABLE municipalities ADD COLUMN removed_at timestamptz;
ALTER TABLE schools ADD COLUMN removed_at timestamptz;
ALTER TABLE classes ADD COLUMN removed_at timestamptz;

-- A removed unit no longer holds its external id or (for a class) its grade, letter and year: they may be used again.
ALTER TABLE municipalities DROP CONSTRAINT municipalities_region_code_external_id_key;
CREATE UNIQUE INDEX municipalities_external_in_region ON municipalities (region_code, external_id) WHERE removed_at IS NULL;
ALTER TABLE schools DROP CONSTRAINT schools_region_code_external_id_key;
CREATE UNIQUE INDEX schools_external_in_region ON schools (region_code, external_id) WHERE removed_at IS NULL;
ALTER TABLE classes DROP CONSTRAINT classes_school_id_year_grade_letter_key;
CREATE UNIQUE INDEX classes_one_per_name ON classes (school_id, year, grade, letter) WHERE removed_at IS NULL;
ALTER TABLE classes DROP CONSTRAINT classes_school_id_external_id_key;
CREATE UNIQUE INDEX classes_external_in_school ON classes (school_id, external_id) WHERE removed_at IS NULL;
