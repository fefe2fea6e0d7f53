CREATE TABLE "crm"."sync_jobs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"state" varchar(10) NOT NULL,
	"total" integer NOT NULL,
	"done" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"cursor" varchar(300),
	"requested_by" uuid,
	"lease_until" timestamp (3) with time zone,
	"retry_at" timestamp (3) with time zone,
	"last_error" varchar(500),
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"finished_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "sync_jobs_one_running_idx" ON "crm"."sync_jobs" USING btree ("state") WHERE "crm"."sync_jobs"."state" = 'RUNNING';