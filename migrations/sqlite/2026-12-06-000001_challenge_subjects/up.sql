-- Challenges (质疑) against the documents, the process or the result (政府采购法 Art 52; 实施条例 Art 53);
-- whether one may affect the result, which suspends the next steps while it is open (实施条例 Art 54), and
-- the bureau's reason when it marks one as not affecting it. Existing challenges were against the result.
ALTER TABLE challenges ADD COLUMN subject TEXT NOT NULL DEFAULT 'result';
ALTER TABLE challenges ADD COLUMN affects_result BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE challenges ADD COLUMN assessment TEXT;
