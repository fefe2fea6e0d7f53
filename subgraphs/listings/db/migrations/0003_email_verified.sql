ALTER TABLE "listings"."users" ADD COLUMN "email_verified_at" timestamp (3) with time zone;--> statement-breakpoint
-- Users from before address confirmation keep receiving mail: their addresses count as confirmed when they registered.
UPDATE "listings"."users" SET "email_verified_at" = "created_at" WHERE "email_verified_at" IS NULL;
