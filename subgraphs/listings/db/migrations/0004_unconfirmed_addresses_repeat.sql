DROP INDEX "listings"."users_email_lower_key";--> statement-breakpoint
CREATE UNIQUE INDEX "users_verified_email_key" ON "listings"."users" USING btree (lower("email")) WHERE "listings"."users"."email_verified_at" is not null;--> statement-breakpoint
CREATE INDEX "users_email_lower_idx" ON "listings"."users" USING btree (lower("email"));