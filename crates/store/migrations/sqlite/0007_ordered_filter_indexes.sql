-- Filter indexes end in username_key: an exact match then returns its page already in
-- username order, and a prefix match walks (column, username_key) with no sort.
DROP INDEX users_username_ix;
CREATE INDEX users_username_ix ON users (pool_id, username, username_key);
DROP INDEX users_email_ix;
CREATE INDEX users_email_ix ON users (pool_id, email, username_key);
DROP INDEX users_phone_number_ix;
CREATE INDEX users_phone_number_ix ON users (pool_id, phone_number, username_key);
DROP INDEX users_name_ix;
CREATE INDEX users_name_ix ON users (pool_id, name, username_key);
DROP INDEX users_given_name_ix;
CREATE INDEX users_given_name_ix ON users (pool_id, given_name, username_key);
DROP INDEX users_family_name_ix;
CREATE INDEX users_family_name_ix ON users (pool_id, family_name, username_key);
DROP INDEX users_preferred_username_ix;
CREATE INDEX users_preferred_username_ix ON users (pool_id, preferred_username, username_key);
